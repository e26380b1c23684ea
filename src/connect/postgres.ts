/**
 * `connect postgres`: the database's tables as objects (with, on consent,
 * the change-log triggers), through the connector's own connection handling
 * so a wrong password or an unreachable server is the same clear error (exit 3).
 */
import { parseSettings } from '../../connectors/postgres/config.js';
import { Db } from '../../connectors/postgres/database.js';
import { discover } from '../../connectors/postgres/discover.js';

export async function discoverPostgres(url: string, flags: string[], installTriggers: boolean): Promise<Record<string, unknown>> {
  // Objects are not known yet: a placeholder satisfies the settings parser, which checks the URL.
  const settings = parseSettings({ name: 'postgres', app: 'postgres', baseDir: process.cwd(), url, objects: { probe: {} } });
  const db = new Db(settings, 'postgres');
  try {
    const found = await discover(db, flags, { installTriggers });
    return Object.fromEntries(found.map((o) => [o.name, o.block]));
  } finally {
    await db.close();
  }
}
