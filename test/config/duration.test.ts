import { describe, expect, test } from 'vitest';
import { durationMs, formatDuration, parseDuration } from '../../src/config/duration.js';

describe('parseDuration', () => {
  test.each([
    ['30s', 30_000], ['5m', 300_000], ['1h', 3_600_000], ['1h30m', 5_400_000], ['1h 30m', 5_400_000],
    ['500ms', 500], ['2m30s', 150_000], ['1.5h', 5_400_000], ['90', 90_000], [' 5M ', 300_000], ['1d', 86_400_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test('a number is seconds', () => {
    expect(parseDuration(45)).toBe(45_000);
    expect(parseDuration(0.5)).toBe(500);
  });

  test.each(['', '5x', 'm', '5 minutes', '1h1h', '-5m', '0s', 'soon'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  test('zero and negative numbers are not durations', () => {
    expect(parseDuration(0)).toBeNull();
    expect(parseDuration(-1)).toBeNull();
    expect(parseDuration(Number.NaN)).toBeNull();
  });
});

test('durationMs throws a configuration error naming the flag', () => {
  expect(durationMs('10s', '--interval')).toBe(10_000);
  expect(() => durationMs('often', '--interval')).toThrow(expect.objectContaining({
    kind: 'config', code: 'INVALID_DURATION', message: "--interval: 'often' is not a duration",
  }));
});

test('formatDuration', () => {
  expect(formatDuration(300_000)).toBe('5m');
  expect(formatDuration(5_400_000)).toBe('1h30m');
  expect(formatDuration(90_000)).toBe('1m30s');
  expect(formatDuration(250)).toBe('250ms');
});
