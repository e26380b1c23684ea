/**
 * Durations as people write them: `30s`, `5m`, `1h`, `1h30m`, `500ms`, or a
 * bare number of seconds. Used by `interval:` in the YAML and by
 * `watch --interval`.
 */
import { configError } from '../errors.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Parts in descending size; `ms` before `m` so that `500ms` is not read as minutes. */
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gy;

export const DURATION_HINT = 'a duration such as 30s, 5m, 1h or 1h30m, or a number of seconds';

/** Milliseconds, or null when the text is not a positive duration. */
export function parseDuration(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input > 0 ? Math.round(input * 1000) : null;
  const text = input.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return parseDuration(Number(text));
  if (text === '') return null;

  let total = 0;
  let offset = 0;
  const seen = new Set<Unit>();
  PART.lastIndex = 0;
  for (let m = PART.exec(text); m; m = PART.exec(text)) {
    const unit = m[2] as Unit;
    if (seen.has(unit)) return null;
    seen.add(unit);
    total += Number(m[1]) * UNIT_MS[unit];
    offset = PART.lastIndex;
    while (text[offset] === ' ') offset++;
    PART.lastIndex = offset;
  }
  if (offset !== text.length || total <= 0) return null;
  return Math.round(total);
}

/** Like parseDuration, but throws a configuration error naming `what` (a flag or key). */
export function durationMs(input: string | number, what: string): number {
  const ms = parseDuration(input);
  if (ms === null) {
    throw configError('INVALID_DURATION', `${what}: '${String(input)}' is not a duration`, {
      hint: `Give ${DURATION_HINT}.`,
    });
  }
  return ms;
}

/** The shortest readable form: 90000 → '1m30s'. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}
