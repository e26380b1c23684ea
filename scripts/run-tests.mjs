#!/usr/bin/env node
// `npm test`: build (end-to-end tests drive the built CLI), type-check the tests, run every vitest
// test, then print one plain closing line, `N passed, N failed`, that any CI
// reader understands. Extra arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

if (run(bin('tsc'), ['-p', 'tsconfig.json']) !== 0) {
  console.log('build failed: 0 passed, 1 failed');
  process.exit(1);
}
// vitest strips types without checking them: check the tests' types too.
if (run(bin('tsc'), ['-p', 'test/tsconfig.json', '--noEmit']) !== 0) {
  console.log('type check of the tests failed: 0 passed, 1 failed');
  process.exit(1);
}
const report = path.join(root, '.tmp', 'vitest-report.json');
mkdirSync(path.dirname(report), { recursive: true });
rmSync(report, { force: true });
const status = run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  skipped = r.numPendingTests + r.numTodoTests;
} catch {
  failed = Math.max(failed, status === 0 ? 0 : 1);
}
if (status !== 0 && failed === 0) failed = 1; // a suite that crashed before its tests ran
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status === 0 && failed === 0 && passed > 0 ? 0 : 1);
