/**
 * Writing a configured sync: connection blocks for connections only stored by
 * `connect`, the sync itself with `upsertSync` (comments and other syncs
 * stay), a check that the result loads, then an atomic replace. Saving also
 * turns a stopped sync on again in the state (SPEC §6: re-enable by
 * `configure SYNC`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { addConnection } from '../config/connections.js';
import { upsertSync } from '../config/edit.js';
import { parseConfig } from '../config/load.js';
import type { ConfigPlace } from '../connect/place.js';
import { writeConfigText } from '../connect/place.js';
import { openState } from '../state/open.js';
import { StateStore } from '../state/store.js';
import { toSyncYaml, type Draft } from './draft.js';
import type { Sources } from './sources.js';

export const NEW_FILE = '# datasync: what to keep in step (see `datasync configure --help`).\n'
  + '# Written by `datasync configure`; edit freely, comments are kept.\nversion: 1\n';

/** The sync as written in the file, to keep the keys a person spelt out. */
export function rawSync(source: string | undefined, name: string): Record<string, unknown> {
  if (source === undefined) return {};
  const syncs = parseDocument(source).get('syncs', true);
  const item = isSeq(syncs) ? syncs.items.find((i) => isMap(i) && i.get('name') === name) : undefined;
  return isMap(item) ? (item.toJSON() as Record<string, unknown>) : {};
}

export interface Saved { file: string; created: boolean; connectionsAdded: string[]; reenabled: boolean }

export async function saveDraft(place: ConfigPlace, d: Draft, sources: Sources, env: NodeJS.ProcessEnv): Promise<Saved> {
  let text = place.source ?? NEW_FILE;
  const connectionsAdded: string[] = [];
  for (const conn of d.between) {
    const block = sources.blockFor(conn, path.dirname(place.file));
    if (!block) continue;
    text = addConnection(text, conn, block);
    connectionsAdded.push(conn);
  }
  text = upsertSync(text, toSyncYaml(d, rawSync(place.source, d.name)));
  // Never write a file `run` would refuse: this throws the same problems `run` would print.
  parseConfig(text, place.file, env, { displayName: place.shown });
  await writeConfigText(place.file, text);
  return { file: place.shown, created: place.source === undefined, connectionsAdded, reenabled: reenable(place.state, d.name) };
}

function reenable(state: string, name: string): boolean {
  if (!existsSync(state)) return false;
  const db = openState(state);
  try {
    const store = new StateStore(db);
    const row = store.getSync(name);
    if (!row || row.enabled === 1) return false;
    store.setEnabled(name, true);
    store.setSyncStatus(name, row.last_success_at ? 'listening' : 'idle', null);
    return true;
  } finally {
    db.close();
  }
}
