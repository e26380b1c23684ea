/**
 * Associations (SPEC §4): the primary company of a contact or deal, and a
 * deal's contacts, kept the same on both sides when the related object has a
 * sync between the same two connections.
 *
 * Each association becomes a pseudo-field `@name` whose value is the related
 * record's id in side a's space (side b's ids are translated through the
 * related sync's links), so the field merge rules apply to it unchanged.
 */
import type { AssociationSpec, FieldSpec, Fields, SourceRecord } from '../connector.js';
import type { FieldMapping } from '../mapping/types.js';
import type { Side, StateStore } from '../state/store.js';
import type { PreparedSync } from './prepare.js';
import type { AssociationBridge } from './types.js';

interface AssocPair {
  a: AssociationSpec;
  b: AssociationSpec;
  related: string;
  /** The related sync has the connections the other way round. */
  flipped: boolean;
  key: string;
}

const pseudo = (assoc: AssociationSpec): FieldSpec => ({
  name: `@${assoc.name}`, label: `${assoc.name} (association)`, type: assoc.single ? 'text' : 'checkboxes', readOnly: false,
});

export function buildBridge(all: PreparedSync[], p: PreparedSync, store: StateStore): AssociationBridge | undefined {
  const { sync } = p;
  if (!sync.associations) return undefined;
  const pairs: AssocPair[] = [];
  for (const a of p.specs.a.associations) {
    const b = p.specs.b.associations.find((x) => x.object === a.object && x.single === a.single);
    const related = all.find((r) => r.sync.object === a.object && r.sync.associations !== false &&
      new Set(r.sync.between).size === 2 && r.sync.between.includes(sync.between[0]) && r.sync.between.includes(sync.between[1]));
    if (!b || !related) continue; // only between objects that both sync
    pairs.push({ a, b, related: related.sync.name, flipped: related.sync.between[0] !== sync.between[0], key: `@${a.name}|@${b.name}` });
  }
  if (pairs.length === 0) return undefined;
  const flow = sync.direction === 'two-way' ? 'both' : sync.direction;
  const mappings: FieldMapping[] = pairs.map((x) => ({ a: pseudo(x.a), b: pseudo(x.b), flow, origin: 'default', note: `association to ${x.a.object}` }));

  /** The id of the record linked to `id` (of `from`, in this sync's sides) in the related sync. */
  const translate = (x: AssocPair, from: Side, id: string): string | null => {
    const relSide: Side = x.flipped ? (from === 'a' ? 'b' : 'a') : from;
    const link = store.linkBy(x.related, relSide, id);
    if (!link || link.deleted) return null;
    return relSide === 'a' ? link.b_id : link.a_id;
  };
  const UNLINKED = '?'; // a b-side id with no counterpart yet: never equal to an a id

  return {
    mappings,
    names: (side) => pairs.map((x) => x[side].name),
    values(side, rec: SourceRecord): Fields {
      const out: Fields = {};
      for (const x of pairs) {
        const ids = rec.associations?.[x[side].name] ?? [];
        const inA = side === 'a' ? ids : ids.map((id) => translate(x, 'b', id) ?? `${UNLINKED}${id}`);
        out[`@${x[side].name}`] = inA.length === 0 ? null : x.a.single ? inA[0]! : [...inA].sort();
      }
      return out;
    },
    split(side, fields) {
      const plain: Fields = {};
      const associations: Record<string, string[]> = {};
      const dropped: string[] = [];
      for (const [name, value] of Object.entries(fields)) {
        const x = pairs.find((p) => `@${p[side].name}` === name);
        if (!x) {
          plain[name] = value;
          continue;
        }
        const ids = value === null ? [] : Array.isArray(value) ? value : [String(value)];
        const mapped = ids.map((id) => (id.startsWith(UNLINKED) ? null : side === 'a' ? id : translate(x, 'a', id)));
        if (mapped.some((id) => id === null)) dropped.push(x.key);
        else associations[x[side].name] = mapped as string[];
      }
      return { fields: plain, associations: Object.keys(associations).length > 0 ? associations : undefined, dropped };
    },
  };
}
