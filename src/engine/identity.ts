/**
 * What each side of a sync points at (issue 14.2): its app and its target —
 * the resolved SQLite file, the CSV file of the object, the PostgreSQL host
 * and database, the HubSpot or Dynamics URL. Links and cursors were made for
 * those records: a sync whose `between:` was reordered, or whose connection
 * now points elsewhere, would apply them to other records. Such a change is
 * refused before anything is read; a sync started over (`stop --delete`)
 * takes the new identity.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionConfig } from '../connector.js';
import { configError } from '../errors.js';
import type { StateStore, SyncRow } from '../state/store.js';
import type { SyncConfig } from '../config/types.js';

const text = (v: unknown, fallback: string) => (typeof v === 'string' && v !== '' ? v : fallback);

/** A file's path with symlinks resolved where it exists (two spellings of one file are one identity). */
function filePath(base: string, rel: string): string {
  const full = resolve(base, rel);
  try {
    return realpathSync(full);
  } catch {
    return full;
  }
}

/** The identity of one side: `app:target`. Never holds a secret (URLs lose their credentials). */
export function identityOf(conn: ConnectionConfig, object: string): string {
  switch (conn.app) {
    case 'sqlite':
      return `sqlite:${filePath(conn.baseDir, text(conn.path, ''))}`;
    case 'csv': {
      const objects = (conn.objects ?? {}) as Record<string, { file?: unknown } | undefined>;
      const dir = resolve(conn.baseDir, text(conn.dir, '.'));
      return `csv:${filePath(dir, text(objects[object]?.file, `${object}.csv`))}`;
    }
    case 'postgres': {
      if (typeof conn.url === 'string') {
        try {
          const u = new URL(conn.url);
          return `postgres:${u.hostname}:${u.port || 5432}${u.pathname}`;
        } catch {
          return `postgres:${conn.url.replace(/\/\/[^@]*@/, '//')}`;
        }
      }
      return `postgres:${text(conn.host, 'localhost')}:${conn.port ?? 5432}/${text(conn.database, 'postgres')}`;
    }
    case 'hubspot':
      return `hubspot:${text(conn.base_url, 'https://api.hubapi.com').replace(/\/\/[^@/]*@/, '//').replace(/\/+$/, '')}`;
    case 'dynamics':
      return `dynamics:${text(conn.url, '').replace(/\/+$/, '')}`;
    default:
      return `${conn.app}:${conn.name}`;
  }
}

/**
 * Refuses a sync whose sides are not what its links were made with; stores
 * the identities of a sync that has none yet (a new sync, or a state from
 * before identities were kept, adopted as it is).
 */
export function checkIdentity(store: StateStore, sync: SyncConfig, connections: Record<string, ConnectionConfig>, dryRun: boolean): void {
  const row: SyncRow | undefined = store.getSync(sync.name);
  const [a, b] = sync.between;
  const now = [identityOf(connections[a]!, sync.object), identityOf(connections[b]!, sync.object)] as const;
  const fix = `put it back, or start the sync over with \`datasync stop ${sync.name} --delete\` (its links and cursors are forgotten; records are matched again)`;
  if (!row) return;
  if (row.a_conn === b && row.b_conn === a) {
    throw configError('SYNC_SIDES_SWAPPED', `sync ${sync.name}: between: is now [${a}, ${b}], its links were made as [${b}, ${a}]: `
      + 'they would be applied to the wrong records', { hint: `write between: [${b}, ${a}] again, or ${fix.replace('put it back, or ', '')}` });
  }
  const stored = row.identities ? JSON.parse(row.identities) as [string, string] : null;
  if (!stored) {
    if (!dryRun) store.setIdentities(sync.name, now);
    return;
  }
  if (stored[0] === now[1] && stored[1] === now[0]) {
    throw configError('SYNC_SIDES_SWAPPED', `sync ${sync.name}: its two sides are swapped (${a} is now ${now[0]}, which was side ${b}'s): `
      + 'its links would be applied to the wrong records', { hint: `write between: [${b}, ${a}] again, or ${fix.replace('put it back, or ', '')}` });
  }
  for (const i of [0, 1] as const) {
    if (stored[i] === now[i]) continue;
    const name = sync.between[i];
    throw configError('SYNC_TARGET_CHANGED', `sync ${sync.name}: connection ${name} now points at ${now[i]}, `
      + `but its links and cursors belong to ${stored[i]}: they would be applied to other records`, { hint: fix });
  }
}
