/** A resolved field mapping of one sync (SPEC §5). */
import type { FieldSpec } from '../connector.js';

/** Which way values may move: side a = sync.between[0], side b = between[1]. */
export type Flow = 'both' | 'a-to-b' | 'b-to-a';

export interface FieldMapping {
  a: FieldSpec;
  b: FieldSpec;
  /** After narrowing by the sync direction, read-only flags, type rules and the mapping's `direction:`. */
  flow: Flow;
  origin: 'default' | 'custom';
  /** Why it is one-way, e.g. 'crm.total is read-only', 'number written as text, never back'. */
  note?: string;
  /** Option maps for select/radio: side a's value -> side b's value, and back. Unmapped values pass unchanged. */
  valuesAtoB?: Record<string, string>;
  valuesBtoA?: Record<string, string>;
}
