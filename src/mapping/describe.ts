/** Mappings as rows for `run --dry-run`, `configure` and `health`. */
import type { FieldMapping } from './types.js';

export interface MappingRow {
  /** Field name on side a (the first connection). */
  a: string;
  /** Field name on side b. */
  b: string;
  /** 'number / text', 'date / datetime'. */
  types: string;
  /** '↔' for two-way, else 'crm → hubspot' in connection names. */
  direction: string;
  origin: string;
  note?: string;
}

export function describeMappings(mappings: FieldMapping[], aName: string, bName: string): MappingRow[] {
  return mappings.map((m) => {
    const row: MappingRow = {
      a: m.a.name,
      b: m.b.name,
      types: `${m.a.type} / ${m.b.type}`,
      direction: m.flow === 'both' ? '↔' : m.flow === 'a-to-b' ? `${aName} → ${bName}` : `${bName} → ${aName}`,
      origin: m.origin,
    };
    if (m.note) row.note = m.note;
    return row;
  });
}
