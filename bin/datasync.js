#!/usr/bin/env node
// The built CLI lives in dist/ (npm run build). Only commander loads up front;
// each command imports what it needs.
import('../dist/src/cli/main.js')
  .then((cli) => cli.main(process.argv))
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
      console.error('datasync: not built yet: run `npm run build` (or `npm ci`, which builds) first');
      process.exit(70);
    }
    console.error(err);
    process.exit(70);
  });
