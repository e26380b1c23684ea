/**
 * The stored form of a link's base (state/store.ts encodeBase): a value both
 * sides hold is stored once, and every base reads back as it was written,
 * including the pairs-only form of earlier versions.
 */
import { expect, it } from 'vitest';
import { type Base, decodeBase, encodeBase } from '../../src/state/store.js';

it('stores a value both sides hold once, and a differing pair as a pair', () => {
  const base: Base = { 'email|email': ['ann@example.com', 'ANN@example.com'], 'name|firstname': ['Ann', 'Ann'], 'n|n': [3, 3] };
  const text = encodeBase(base);
  expect(JSON.parse(text)).toEqual({ 'email|email': ['ann@example.com', 'ANN@example.com'], '=': { 'name|firstname': 'Ann', 'n|n': 3 } });
  expect(decodeBase(text)).toEqual(base);
});

it('reads back nulls, undefined (as null), booleans, lists and the empty base', () => {
  const base = { 'a|a': [null, null], 'b|b': [undefined, undefined], 'c|c': [null, ''], 'd|d': [true, true], 'e|e': [['x', 'y'], ['x', 'y']],
    'f|f': [['x'], ['y']], 'g|g': [0, '0'] } as unknown as Base;
  const back = decodeBase(encodeBase(base));
  expect(back).toEqual({ ...base, 'b|b': [null, null] });
  expect(encodeBase({})).toBe('{}');
  expect(decodeBase('{}')).toEqual({});
});

it('gives each side of a list value its own copy', () => {
  const back = decodeBase(encodeBase({ 'tags|tags': [['x'], ['x']] }));
  (back['tags|tags']![0] as string[]).push('y');
  expect(back['tags|tags']![1]).toEqual(['x']);
});

it('reads a base stored before, pairs only', () => {
  const before = '{"email|email":["ann@example.com","ann@example.com"],"city|city":["Oslo",null]}';
  expect(decodeBase(before)).toEqual({ 'email|email': ['ann@example.com', 'ann@example.com'], 'city|city': ['Oslo', null] });
});

it('is shorter for a base whose sides agree', () => {
  const base: Base = Object.fromEntries(['first', 'last', 'phone', 'city', 'zip'].map((f) => [`${f}|${f}`, [`value of ${f}`, `value of ${f}`]]));
  expect(encodeBase(base).length).toBeLessThan(JSON.stringify(base).length * 0.65);
});
