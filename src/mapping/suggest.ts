/** "Did you mean …?" for misspelt field names, shared by mappings and filters. */
import type { FieldSpec } from '../connector.js';

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Edit distance (insert, delete, substitute, swap neighbours). */
export function editDistance(x: string, y: string): number {
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const row = d[i]!, prev = d[i - 1]!;
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[x.length]![y.length]!;
}

/**
 * Up to three field names close to `name`, nearest first. A field is close
 * when its name or label, ignoring case and punctuation, is a few edits away
 * or contains / is contained in what was typed.
 */
export function suggestFields(name: string, fields: FieldSpec[]): string[] {
  const want = squash(name);
  const scored: Array<{ name: string; score: number }> = [];
  for (const f of fields) {
    const score = Math.min(closeness(want, squash(f.name)), closeness(want, squash(f.label)));
    if (score < Infinity) scored.push({ name: f.name, score });
  }
  return scored.sort((p, q) => p.score - q.score || p.name.localeCompare(q.name)).slice(0, 3).map((s) => s.name);
}

function closeness(want: string, have: string): number {
  if (!want || !have) return Infinity;
  const dist = editDistance(want, have);
  if (dist <= Math.max(1, Math.floor(want.length / 3))) return dist;
  if (want.length >= 3 && (have.includes(want) || want.includes(have))) return 10 + Math.abs(have.length - want.length);
  return Infinity;
}

/** The tail of a "no such field" message: a suggestion, or the fields there are. */
export function unknownFieldHint(name: string, fields: FieldSpec[]): string {
  const close = suggestFields(name, fields);
  if (close.length > 0) return `did you mean ${close.map((n) => `"${n}"`).join(' or ')}?`;
  const names = fields.map((f) => f.name);
  const shown = names.slice(0, 12).join(', ') + (names.length > 12 ? `, … (${names.length} in all)` : '');
  return names.length ? `fields there: ${shown}` : 'that object has no fields';
}
