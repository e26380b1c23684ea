import { describe, expect, test } from 'vitest';
import { DatasyncError } from '../../src/errors.js';
import { parse, problemsOf, withSync } from './helpers.js';

describe('each problem says FILE:LINE:COLUMN', () => {
  test('a wrong value points at the value', () => {
    expect(problemsOf('version: 2\n')).toEqual(['sync.yaml:1:10: version is 2, expected 1 (the only version of this format so far)']);
  });

  test('a missing key points at the parent mapping', () => {
    expect(problemsOf('interval: 5m\n')).toEqual(["sync.yaml:1:1: the file is missing 'version': expected format version, always 1"]);
    expect(problemsOf('version: 1\nconnections:\n  crm:\n    path: x\n')).toEqual([
      "sync.yaml:4:5: connections.crm is missing 'app': expected the app of this connection: hubspot, sqlite, csv, …",
    ]);
  });

  test('a key with nothing after it points at the key', () => {
    expect(problemsOf('version: 1\ninterval:\n')).toEqual([
      "sync.yaml:2:1: interval is nothing, expected a duration such as 30s, 5m, 1h or 1h30m, or a number of seconds",
    ]);
  });

  test('a wrong type says what was found and what is expected', () => {
    expect(problemsOf(withSync('  - { name: s, object: contacts, between: [hubspot, crm], direction: two-way, associations: yes }\n'))).toEqual([
      'sync.yaml:6:93: syncs[0].associations is \'yes\', expected true or false (keep links to records of other synced objects)',
    ]);
  });

  test('an unknown key points at the key, suggests the closest and lists the allowed ones', () => {
    expect(problemsOf(withSync('  - name: s\n    object: contacts\n    between: [hubspot, crm]\n    diretion: two-way\n'))).toEqual([
      "sync.yaml:6:5: syncs[0] is missing 'direction': expected two-way, 'A -> B' or 'B -> A' in connection names",
      "sync.yaml:9:5: unknown key 'diretion' in syncs[0]: did you mean 'direction'? expected one of name, object, between, direction, default_app, match, mappings, rules, filters, associations, clears, suspect_deletions, reconcile, enabled",
    ]);
  });

  test('an unknown key with nothing close gets no suggestion', () => {
    expect(problemsOf('version: 1\nsettings: {}\n')).toEqual([
      "sync.yaml:2:1: unknown key 'settings' at the top level: expected one of version, state, interval, connections, syncs",
    ]);
  });

  test('unknown keys inside mappings and rules are caught too', () => {
    const problems = problemsOf(withSync(`  - name: s
    object: contacts
    between: [hubspot, crm]
    direction: two-way
    mappings: { default: false }
    rules: { only_with_mail: true }
`));
    expect(problems).toEqual([
      "sync.yaml:10:17: unknown key 'default' in syncs[0].mappings: did you mean 'defaults'? expected one of defaults, custom, fields",
      "sync.yaml:11:14: unknown key 'only_with_mail' in syncs[0].rules: did you mean 'only_with_email'? expected one of only_with_email",
    ]);
  });

  test('a bad connection name points at the name', () => {
    expect(problemsOf('version: 1\nconnections:\n  2nd-crm: { app: csv }\n')).toEqual([
      "sync.yaml:3:3: '2nd-crm' is not a valid name in connections: expected a letter first, then letters, digits, '-' or '_'",
    ]);
  });

  test('a YAML syntax error keeps the yaml package\'s position', () => {
    const problems = problemsOf('version: 1\nsyncs: [\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^sync\.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a \]/);
  });

  test('a duplicate key is an error at the second one', () => {
    expect(problemsOf('version: 1\ninterval: 5m\ninterval: 1m\n')).toEqual([
      "sync.yaml:3:1: duplicate key 'interval': a key may appear only once in a mapping",
    ]);
  });

  test('an unquoted ${NAME} inside { } gets a tip', () => {
    const [first] = problemsOf('version: 1\nconnections:\n  hubspot: { app: hubspot, token: ${T} }\n', { T: 'x' });
    expect(first).toMatch(/quote a \$\{NAME\} value/);
  });

  test('an empty file', () => {
    expect(problemsOf('')).toEqual(["sync.yaml:1:1: the file is empty: expected at least 'version: 1'"]);
    expect(problemsOf('# nothing yet\n')).toEqual(["sync.yaml:1:1: the file is empty: expected at least 'version: 1'"]);
  });
});

describe('every problem at once', () => {
  const text = `version: 1
interval: soon
connections:
  hubspot: { app: hubspot }
syncs:
  - name: contacts
    object: contacts
    between: [hubspot, crm]
    direction: hubspot => crm
  - name: contacts
    object: companies
    between: [hubspot, hubspot]
    direction: two-way
    clears: always
`;

  test('are listed in file order in one error', () => {
    let err: unknown;
    try {
      parse(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasyncError);
    const e = err as DatasyncError;
    expect(e).toMatchObject({ kind: 'config', code: 'CONFIG_INVALID', message: '6 problems in sync.yaml' });
    expect(e.hint).toBeTruthy();
    expect(e.problems).toEqual([
      'sync.yaml:2:11: interval is \'soon\', expected a duration such as 30s, 5m, 1h or 1h30m, or a number of seconds',
      "sync.yaml:8:24: connection 'crm' is not defined under connections: expected one of hubspot",
      "sync.yaml:9:16: direction is 'hubspot => crm', expected two-way, 'hubspot -> crm' or 'crm -> hubspot'",
      "sync.yaml:10:11: sync name 'contacts' is used twice (first at sync.yaml:6:11): expected a unique name per sync",
      "sync.yaml:12:14: between names 'hubspot' twice: expected two different connections",
      "sync.yaml:14:13: syncs[1].clears is 'always', expected one of keep, propagate",
    ]);
  });
});

describe('${NAME} substitution', () => {
  const conn = (value: string) => `version: 1\nconnections:\n  hubspot:\n    app: hubspot\n    token: ${value}\n`;

  test('replaces each reference in a string value', () => {
    const config = parse(conn('"Bearer ${A}-${B}"'), { A: 'one', B: 'two' });
    expect(config.connections.hubspot?.token).toBe('Bearer one-two');
  });

  test('$${ is a literal ${', () => {
    expect(parse(conn("'$${NOT_A_VAR}'")).connections.hubspot?.token).toBe('${NOT_A_VAR}');
  });

  test('an empty variable is set (to the empty string)', () => {
    expect(parse(conn('${EMPTY}'), { EMPTY: '' }).connections.hubspot?.token).toBe('');
  });

  test('each unset variable is a problem at its node', () => {
    expect(problemsOf(`${conn('${TOKEN}')}    base_url: \${URL}\n`)).toEqual([
      'sync.yaml:5:12: ${TOKEN} is not set: export it (export TOKEN=…) before running datasync, or write the value in the file',
      'sync.yaml:6:15: ${URL} is not set: export it (export URL=…) before running datasync, or write the value in the file',
    ]);
  });

  test('a malformed reference is a problem', () => {
    expect(problemsOf(conn("'${TOKEN'"))).toEqual([
      "sync.yaml:5:12: '${TOKEN' is not a valid reference: write ${NAME} with NAME a variable name, or $${ for a literal ${",
    ]);
  });

  test('a substituted value is never printed, its ${NAME} is', () => {
    const secret = 'pat-na1-0123456789';
    const problems = problemsOf(withSync('  - { name: s, object: contacts, between: [hubspot, crm], direction: "${SECRET}", default_app: "${SECRET}" }\n'), { SECRET: secret });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).not.toContain(secret);
    expect(problems[0]).toContain("direction is '${SECRET}'");
  });

  test('keys are not substituted, only values', () => {
    // The key stays `${K}` (and is then no key a sqlite connection takes).
    expect(problemsOf('version: 1\nconnections:\n  a:\n    app: sqlite\n    path: ${K}\n    ${K}: v\n', { K: 'x.db' }))
      .toEqual([expect.stringMatching(/^sync\.yaml:6:5: unknown key '\$\{K\}' in connections\.a: /)]);
  });
});

test('a secret used where a connection name belongs is not echoed either', () => {
  const secret = 'pat-na1-0123456789';
  const problems = problemsOf(withSync('  - name: s\n    object: contacts\n    between: [hubspot, "${SECRET}"]\n    direction: hubspot -> crm\n'), { SECRET: secret });
  expect(problems.length).toBeGreaterThan(0);
  expect(problems.join('\n')).not.toContain(secret);
});
