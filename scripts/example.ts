/**
 * `npm run example`: creates the example apps in ./example/ (ignored by git)
 * the first time, then runs `datasync run` on sync.example.yaml.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExample } from './make-example.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = path.join(root, 'example');
if (!existsSync(path.join(dir, 'crm.db'))) {
  makeExample(dir);
  process.stderr.write(`created the example apps in ${path.relative(process.cwd(), dir) || '.'}/ (crm.db, export/*.csv)\n`);
}
const result = spawnSync(process.execPath, [path.join(root, 'bin/datasync.js'), '-c', path.join(root, 'sync.example.yaml'), 'run', ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: root });
// Exit 1 means "done, but some records failed": the example data holds a few
// duplicate emails on purpose, so that is the expected outcome here.
if (result.status === 1) {
  process.stderr.write('\nSome records failed on purpose: the example data has duplicate emails on one side.\n'
    + 'See why with: node bin/datasync.js -c sync.example.yaml health --failed\n');
  process.exitCode = 0;
} else {
  process.exitCode = result.status ?? 70;
}
