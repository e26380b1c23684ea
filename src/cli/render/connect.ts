/** `connect` for people and for scripts. A secret appears here only redacted (…abcd). */
import Table from 'cli-table3';
import type { ConnectionRow, ConnectResult } from '../../connect.js';
import type { Style } from './style.js';

const objectList = (objects: ConnectionRow['objects']) =>
  objects.length === 0 ? '—' : objects.map((o) => `${o.name} (${o.fields} field${o.fields === 1 ? '' : 's'})`).join(', ');

export function renderConnected(r: ConnectResult, style: Style): string {
  const lines = [
    `${style.green('✔')} connection ${style.bold(r.name)} (${r.app}) checked and stored${r.secret ? `, credential ${r.secret}` : ''}`,
    `  objects: ${objectList(r.objects)}`,
    ...r.objects.filter((o) => o.changes).map((o) => `  ${o.name}: changes found by ${o.changes}`),
    ...r.objects.flatMap((o) => (o.associations ?? []).map((a) => `  ${o.name}: ${a} (an association: a foreign key, kept as a link to that record, never copied as an id)`)),
    `  state: ${r.state}`,
  ];
  if (r.configUpdated) lines.push(`  added connections.${r.name} to ${r.configUpdated} (no secret in it: runs use the stored credential)`);
  lines.push(`  next: datasync configure`);
  return lines.join('\n');
}

export function renderConnectionList(rows: ConnectionRow[], style: Style): string {
  if (rows.length === 0) return 'no stored connections (add one with `datasync connect APP`)';
  const table = new Table({ head: ['name', 'app', 'credential', 'created', 'in YAML', 'objects'], style: { head: [], border: [] } });
  for (const r of rows) {
    table.push([style.bold(r.name), r.app, r.secret ?? '—', r.created.slice(0, 16).replace('T', ' '), r.inConfig ? 'yes' : 'no', objectList(r.objects)]);
  }
  return table.toString();
}

/** `connect --json` / `connect --list --json`: version 1 of a stable shape. */
export const connectedJson = (r: ConnectResult) => ({ version: 1, connection: r });
export const listJson = (rows: ConnectionRow[]) => ({ version: 1, connections: rows });
