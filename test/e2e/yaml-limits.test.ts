/**
 * Issue 14 point 9: YAML that attacks the loader. An alias bomb ("billion
 * laughs") is refused with exit 2 and a sentence, not exit 70 with a stack;
 * duplicate keys are still found (the check is linear: the yaml package's
 * own check compares every key of a mapping with every other).
 */
import { describe, expect, it } from 'vitest';
import { useWorkspaces } from './support.js';

const workspace = useWorkspaces();

describe('hostile YAML', () => {
  it('an alias bomb is refused with exit 2 and a sentence naming the file, no stack', async () => {
    const w = workspace();
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
      const prev = 'abcdefg'[i];
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    w.writeText('sync.yaml', ['version: 1', ...levels, 'connections: {}', 'syncs: []', ''].join('\n'));
    const r = await w.run('run');
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/sync\.yaml:\d+:\d+: .*alias/i);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a duplicate key is still reported with its position', async () => {
    const w = workspace();
    w.writeText('sync.yaml', 'version: 1\nconnections: {}\nsyncs: []\nconnections: {}\n');
    const r = await w.run('run');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("sync.yaml:4:1: duplicate key 'connections'");
  });

  it('a mapping with 40,000 keys loads (and is refused for its unknown key) in reasonable time', async () => {
    const w = workspace();
    const lines = ['version: 1', 'connections: {}', 'syncs: []', 'x-extra:'];
    for (let i = 0; i < 40_000; i++) lines.push(`  k${i}: v`);
    lines.push('  k7: again');
    w.writeText('sync.yaml', `${lines.join('\n')}\n`);
    const r = await w.run('run');
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain("duplicate key 'k7'");
  });
});
