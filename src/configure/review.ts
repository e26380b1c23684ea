/** The review screen of `configure`: the YAML that will be written and the mappings it makes. */
import Table from 'cli-table3';
import { stringify } from 'yaml';
import type { ResolvedMappings } from '../mapping/resolve.js';
import { describeMappings } from '../mapping/describe.js';
import type { FieldMapping } from '../mapping/types.js';
import type { SyncYaml } from '../config/edit.js';
import type { ObjectSpec } from '../connector.js';
import { append } from '../lists.js';
import type { Specs } from './mappings.js';

/**
 * How a side finds changes in its object (SPEC §7: say it for each table):
 * the connector's own words when it gives them (SQLite, PostgreSQL), else
 * what its capabilities mean for a run.
 */
export function changesOf(spec: ObjectSpec): string {
  if (spec.changes) return spec.changes;
  return spec.capabilities.changeCursor
    ? 'the app\'s change cursor: each run reads only the records changed since the last one'
    : 'comparing every record with the last run, every run (the app keeps no change time)';
}

/** One line per side: `crm.contacts: …`. */
export function changesLines(between: readonly string[], specs: Specs): string[] {
  return [specs.a, specs.b].map((spec, i) => `${between[i]}.${spec.name}: ${changesOf(spec)}`);
}

export function mappingTable(mappings: FieldMapping[], aName: string, bName: string): string {
  if (mappings.length === 0) return '(no mappings)';
  const table = new Table({ head: [aName, bName, 'types', 'direction', 'origin', 'note'], style: { head: [], border: [] } });
  for (const r of describeMappings(mappings, aName, bName)) table.push([r.a, r.b, r.types, r.direction, r.origin, r.note ?? '']);
  return table.toString();
}

export function reviewText(sync: SyncYaml, resolved: ResolvedMappings, file: string, specs: Specs): string {
  const [a, b] = sync.between as [string, string];
  const lines = [
    `This goes into ${file} (under syncs:; comments and other syncs stay as they are):`,
    '',
    stringify([sync], { lineWidth: 0 }).trimEnd().split('\n').map((l) => `  ${l}`).join('\n'),
    '',
    `Field mappings (${resolved.mappings.length}):`,
    mappingTable(resolved.mappings, a, b),
    '',
    'How changes are found:',
    ...changesLines([a, b], specs).map((l) => `  ${l}`),
  ];
  if (resolved.skipped.length > 0) append(lines, ['', 'Default pairs left out:', ...resolved.skipped.map((s) => `  - ${s}`)]);
  if (resolved.problems.length > 0) append(lines, ['', 'Problems (fix before saving):', ...resolved.problems.map((s) => `  - ${s}`)]);
  return lines.join('\n');
}
