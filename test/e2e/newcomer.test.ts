/**
 * Issue 13 point 18: `npm run example` builds only what changed, and the
 * README works on any machine (how to put `datasync` on the PATH, no links
 * that only resolve beside this checkout).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO } from './support.js';

describe('the newcomer path (issue 13.18)', () => {
  it('a second build with nothing changed writes no file (tsc incremental)', async () => {
    const built = join(REPO, 'dist', 'src', 'cli', 'main.js');
    await execa('npm', ['run', 'build', '--silent'], { cwd: REPO });
    const first = statSync(built).mtimeMs;
    await execa('npm', ['run', 'build', '--silent'], { cwd: REPO });
    expect(statSync(built).mtimeMs).toBe(first);
    expect(existsSync(join(REPO, 'dist', '.tsbuildinfo'))).toBe(true);
  }, 120_000);

  it('the README shows how to put datasync on the PATH and links nothing outside the repository', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(readme).toMatch(/npm link/);
    expect(readme).toMatch(/npx datasync/);
    const links = [...readme.matchAll(/\]\(([^)#]+)[^)]*\)/g)].map((m) => m[1]!).filter((l) => !/^https?:/.test(l));
    for (const link of links) expect(existsSync(join(REPO, link)), `README links ${link}`).toBe(true);
    expect(links.filter((l) => l.startsWith('..'))).toEqual([]);
  });
});
