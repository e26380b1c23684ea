/**
 * Matching (SPEC §4 Matching): pairs unlinked records by match key before
 * anything is created. `matchRecords` is pure; earlier runs come in through
 * the lookups, so each scenario spells out what the state knows.
 */
import { describe, expect, test } from 'vitest';
import { matchRecords, type KeyedRecord, type MatchLookups, type MatchOutcome } from '../../src/engine/match.js';
import type { Side } from '../../src/state/store.js';

const rec = (id: string, keys: string[], linked = false): KeyedRecord => ({ id, keys, linked });
const email = (e: string) => `email:${e}`;

/** What the state knows from earlier runs: keys of records not read now, and links. */
function known(opts: { keys?: Partial<Record<Side, Record<string, string[]>>>; linked?: Partial<Record<Side, string[]>> } = {}): MatchLookups {
  return {
    knownIds: (side, key) => opts.keys?.[side]?.[key] ?? [],
    isLinked: (side, id) => opts.linked?.[side]?.includes(id) ?? false,
  };
}

const sorted = (outcomes: MatchOutcome[]) =>
  [...outcomes].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
const pairs = (outcomes: MatchOutcome[]) => outcomes.filter((o) => o.kind === 'pair').map((o) => o.kind === 'pair' && [o.a, o.b]);
const ofKind = (outcomes: MatchOutcome[], kind: MatchOutcome['kind']) =>
  outcomes.filter((o) => o.kind === kind).map((o) => (o.kind === 'pair' ? `${o.a}+${o.b}` : `${o.side}:${o.id}`)).sort();

describe('pairing', () => {
  test('two new records with the same key are paired', () => {
    const out = matchRecords({ a: [rec('a1', [email('anna@x.se')])], b: [rec('b1', [email('anna@x.se')])] }, known());
    expect(out).toEqual([{ kind: 'pair', a: 'a1', b: 'b1', key: email('anna@x.se') }]);
  });

  test('records with different keys are not paired: each is unmatched', () => {
    const out = matchRecords({ a: [rec('a1', [email('anna@x.se')])], b: [rec('b1', [email('bo@x.se')])] }, known());
    expect(sorted(out)).toEqual(sorted([{ kind: 'unmatched', side: 'a', id: 'a1' }, { kind: 'unmatched', side: 'b', id: 'b1' }]));
  });

  test('a record without a key is never paired', () => {
    const out = matchRecords({ a: [rec('a1', [])], b: [rec('b1', [])] }, known());
    expect(ofKind(out, 'unmatched')).toEqual(['a:a1', 'b:b1']);
  });

  test('each record is reported once', () => {
    const out = matchRecords({
      a: [rec('a1', [email('anna@x.se')]), rec('a2', [email('bo@x.se')]), rec('a3', [])],
      b: [rec('b1', [email('bo@x.se')]), rec('b2', [email('anna@x.se')]), rec('b3', [email('cy@x.se')])],
    }, known());
    expect(pairs(out).sort()).toEqual([['a1', 'b2'], ['a2', 'b1']]);
    expect(ofKind(out, 'unmatched')).toEqual(['a:a3', 'b:b3']);
    expect(out).toHaveLength(4);
  });

  test('companies pair on the domain', () => {
    const out = matchRecords({
      a: [rec('a1', ['domain:acme.com', 'name:acme'])],
      b: [rec('b1', ['domain:acme.com', 'name:acme inc'])],
    }, known());
    expect(out).toEqual([{ kind: 'pair', a: 'a1', b: 'b1', key: 'domain:acme.com' }]);
  });

  test('companies pair on the name when the domains differ or one is missing: either key suffices', () => {
    const out = matchRecords({
      a: [rec('a1', ['domain:acme.com', 'name:acme']), rec('a2', ['name:globex'])],
      b: [rec('b1', ['domain:acme.se', 'name:acme']), rec('b2', ['domain:globex.com', 'name:globex'])],
    }, known());
    expect(pairs(out).sort()).toEqual([['a1', 'b1'], ['a2', 'b2']]);
  });

  test('a new record pairs with an unlinked record known only from an earlier run', () => {
    const lookups = known({ keys: { b: { [email('anna@x.se')]: ['b7'] } } });
    const out = matchRecords({ a: [rec('a1', [email('anna@x.se')])], b: [] }, lookups);
    expect(out).toEqual([{ kind: 'pair', a: 'a1', b: 'b7', key: email('anna@x.se') }]);
  });

  test('a new record in b pairs with an unlinked record of a known from an earlier run', () => {
    const lookups = known({ keys: { a: { [email('anna@x.se')]: ['a7'] } } });
    const out = matchRecords({ a: [], b: [rec('b1', [email('anna@x.se')])] }, lookups);
    expect(out).toEqual([{ kind: 'pair', a: 'a7', b: 'b1', key: email('anna@x.se') }]);
  });
});

describe('linked records', () => {
  test('a linked record is never paired again, even when its key matches a new record', () => {
    const out = matchRecords({
      a: [rec('a1', [email('anna@x.se')], true)],
      b: [rec('b2', [email('anna@x.se')])],
    }, known({ linked: { a: ['a1'] } }));
    expect(pairs(out)).toEqual([]);
    expect(out.some((o) => o.kind !== 'pair' && o.side === 'a')).toBe(false);
  });

  test('a new record does not pair with a linked record known from an earlier run, nor is it created beside it', () => {
    // Created, it would put the email on two records of side a (SPEC §4: a clash is reported, never made).
    const lookups = known({ keys: { a: { [email('anna@x.se')]: ['a1'] } }, linked: { a: ['a1'] } });
    const out = matchRecords({ a: [], b: [rec('b2', [email('anna@x.se')])] }, lookups);
    expect(out).toEqual([{ kind: 'duplicate', side: 'b', id: 'b2', key: email('anna@x.se'), others: ['a:a1'],
      linkedHolders: [{ side: 'a', id: 'a1' }] }]);
  });

  test('a new record whose secondary key only is held by a linked record is created', () => {
    const lookups = known({ keys: { a: { 'name:acme': ['a1'] } }, linked: { a: ['a1'] } });
    const out = matchRecords({ a: [], b: [rec('b2', ['domain:acme.io', 'name:acme'])] }, lookups);
    expect(out).toEqual([{ kind: 'unmatched', side: 'b', id: 'b2' }]);
  });

  test('linked records whose keys changed are left alone', () => {
    const out = matchRecords({
      a: [rec('a1', [email('new@x.se')], true)],
      b: [rec('b1', [email('old@x.se')], true)],
    }, known({ linked: { a: ['a1'], b: ['b1'] } }));
    expect(out).toEqual([]);
  });
});

describe('duplicates', () => {
  test('several new records with the same key on one side: all are duplicates, none is paired', () => {
    const out = matchRecords({
      a: [rec('a1', [email('anna@x.se')]), rec('a2', [email('anna@x.se')])],
      b: [],
    }, known());
    expect(ofKind(out, 'duplicate')).toEqual(['a:a1', 'a:a2']);
    expect(out.find((o) => o.kind === 'duplicate' && o.id === 'a1')).toMatchObject({ key: email('anna@x.se'), others: ['a2'] });
  });

  test('the same key held on one side by a record read now and one known from before: both count', () => {
    const lookups = known({ keys: { a: { [email('anna@x.se')]: ['a0'] } } });
    const out = matchRecords({ a: [rec('a1', [email('anna@x.se')])], b: [] }, lookups);
    expect(out).toEqual([{ kind: 'duplicate', side: 'a', id: 'a1', key: email('anna@x.se'), others: ['a0'] }]);
  });

  test('a new record whose key is held by an already linked record on its own side is a duplicate', () => {
    const out = matchRecords({
      a: [rec('a1', [email('anna@x.se')], true), rec('a2', [email('anna@x.se')])],
      b: [],
    }, known({ linked: { a: ['a1'] } }));
    expect(out).toEqual([{ kind: 'duplicate', side: 'a', id: 'a2', key: email('anna@x.se'), others: ['a1'],
      linkedHolders: [{ side: 'a', id: 'a1' }] }]);
  });

  test('ambiguous candidates on the other side (one by domain, one by name): a duplicate, not a guess', () => {
    const out = matchRecords({
      a: [rec('a1', ['domain:acme.com', 'name:acme'])],
      b: [rec('b1', ['domain:acme.com']), rec('b2', ['name:acme'])],
    }, known());
    expect(pairs(out)).toEqual([]);
    expect(out).toContainEqual({ kind: 'duplicate', side: 'a', id: 'a1', key: 'domain:acme.com', others: ['b1', 'b2'] });
  });

  test('a record whose key is held by duplicates on the other side is held too, not created there as a third', () => {
    const out = matchRecords({
      a: [rec('a1', [email('anna@x.se')]), rec('a2', [email('anna@x.se')])],
      b: [rec('b1', [email('anna@x.se')])],
    }, known());
    expect(pairs(out)).toEqual([]);
    expect(ofKind(out, 'unmatched')).toEqual([]);
    expect(ofKind(out, 'duplicate')).toEqual(['a:a1', 'a:a2', 'b:b1']);
    expect(out.find((o) => o.kind === 'duplicate' && o.side === 'b')).toMatchObject({ others: ['a1', 'a2'] });
  });

  test('a new record whose only candidate is a duplicate (its key also on a linked record there) is held too', () => {
    const out = matchRecords({
      a: [rec('a1', [email('anna@x.se')], true), rec('a2', [email('anna@x.se')])],
      b: [rec('b1', [email('anna@x.se')])],
    }, known({ linked: { a: ['a1'] } }));
    expect(ofKind(out, 'duplicate')).toEqual(['a:a2', 'b:b1']);
  });

  test('the other candidates of an ambiguous company are held as well, not created on its side', () => {
    const out = matchRecords({
      a: [rec('a1', ['domain:acme.com', 'name:acme'])],
      b: [rec('b1', ['domain:acme.com']), rec('b2', ['name:acme'])],
    }, known());
    expect(ofKind(out, 'unmatched')).toEqual([]);
    expect(ofKind(out, 'duplicate')).toEqual(['a:a1', 'b:b1', 'b:b2']);
  });
});
