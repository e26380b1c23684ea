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
process.exitCode = result.status ?? 70;
