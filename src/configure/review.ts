/** The review screen of `configure`: the YAML that will be written and the mappings it makes. */
import Table from 'cli-table3';
import { stringify } from 'yaml';
import type { ResolvedMappings } from '../mapping/resolve.js';
import { describeMappings } from '../mapping/describe.js';
import type { FieldMapping } from '../mapping/types.js';
import type { SyncYaml } from '../config/edit.js';
import { append } from '../lists.js';

export function mappingTable(mappings: FieldMapping[], aName: string, bName: string): string {
  if (mappings.length === 0) return '(no mappings)';
  const table = new Table({ head: [aName, bName, 'types', 'direction', 'origin', 'note'], style: { head: [], border: [] } });
  for (const r of describeMappings(mappings, aName, bName)) table.push([r.a, r.b, r.types, r.direction, r.origin, r.note ?? '']);
  return table.toString();
}

export function reviewText(sync: SyncYaml, resolved: ResolvedMappings, file: string): string {
  const [a, b] = sync.between as [string, string];
  const lines = [
    `This goes into ${file} (under syncs:; comments and other syncs stay as they are):`,
    '',
    stringify([sync], { lineWidth: 0 }).trimEnd().split('\n').map((l) => `  ${l}`).join('\n'),
    '',
    `Field mappings (${resolved.mappings.length}):`,
    mappingTable(resolved.mappings, a, b),
  ];
  if (resolved.skipped.length > 0) append(lines, ['', 'Default pairs left out:', ...resolved.skipped.map((s) => `  - ${s}`)]);
  if (resolved.problems.length > 0) append(lines, ['', 'Problems (fix before saving):', ...resolved.problems.map((s) => `  - ${s}`)]);
  return lines.join('\n');
}
