/**
 * The `push(...spread)` bug class (issue 13 point 7): a spread passes every
 * item as an argument, and a list of ~120,000 overflows V8's stack. The code
 * base appends with `append` and takes maxima with `largest` (src/lists.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../e2e/support.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('no argument spreads of unbounded lists', () => {
  it('src, connectors, fixtures, scripts and bench use append/largest, never push(...x) or Math.max(...x)', () => {
    const found: string[] = [];
    for (const dir of ['src', 'connectors', 'fixtures', 'scripts', 'bench']) {
      for (const file of sources(join(REPO, dir))) {
        readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
          if (/^\s*(\/\/|\/?\*)/.test(line)) return;
          if (/\.(push|unshift)\(\s*\.\.\.|Math\.(max|min)\([^)]*\.\.\.|fromCharCode\(\s*\.\.\./.test(line)) found.push(`${file.slice(REPO.length)}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    expect(found).toEqual([]);
  });
});
