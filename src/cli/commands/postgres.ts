/**
 * `datasync postgres install-triggers [--connection NAME] [--yes]`: installs
 * the change log (connectors/postgres/changelog.ts) on the tables of a
 * postgres connection's objects, after showing what it creates and, on a
 * terminal, asking. Without a terminal `--yes` is the consent.
 */
import { loadConfig } from '../../config/load.js';
import { configError } from '../../errors.js';
import type { GlobalOptions } from '../main.js';
import { renderError } from '../errors.js';

export default async function postgresCommand(flags: { connection?: string; yes?: boolean }, global: GlobalOptions, args: string[]): Promise<number> {
  try {
    if (args[0] !== 'install-triggers') {
      throw configError('UNKNOWN_COMMAND', `unknown postgres command "${args[0] ?? ''}"`, { hint: 'datasync postgres install-triggers [--connection NAME] [--yes]' });
    }
    const config = await loadConfig({ file: global.config, cwd: process.cwd(), env: process.env });
    const pgConnections = Object.values(config.connections).filter((c) => c.app === 'postgres');
    const conn = flags.connection ? config.connections[flags.connection] : pgConnections.length === 1 ? pgConnections[0] : undefined;
    if (!conn || conn.app !== 'postgres') {
      throw configError('NO_POSTGRES_CONNECTION', flags.connection ? `connection "${flags.connection}" is not a postgres connection in ${config.file}`
        : `${config.file} has ${pgConnections.length} postgres connections`, { hint: `name one with --connection NAME (${pgConnections.map((c) => c.name).join(', ') || 'none defined'})` });
    }
    const { parseSettings } = await import('../../../connectors/postgres/config.js');
    const { Db } = await import('../../../connectors/postgres/database.js');
    const { installSql, LOG_TABLE } = await import('../../../connectors/postgres/changelog.js');
    const settings = parseSettings(conn);
    const tables = [...new Map([...settings.objects.values()].map((o) => [`${o.schema}.${o.table}`, o])).values()];
    process.stderr.write(`This creates, in ${settings.shown}: a table ${LOG_TABLE} and a function per schema, and a row trigger on\n`
      + tables.map((o) => `  ${o.schema}.${o.table}`).join('\n')
      + `\nthat logs each insert, update and delete (the row's id and transaction id) so datasync reads changes in order;\n`
      + `with two small tables (datasync_log_readers, datasync_log_floor) datasync deletes the entries every sync has read.\n`);
    if (!flags.yes) {
      if (!(process.stdin.isTTY && process.stdout.isTTY)) {
        throw configError('NO_CONSENT', 'installing triggers changes the database: confirm with --yes (no terminal to ask)', { hint: 'datasync postgres install-triggers --yes' });
      }
      const { confirm } = await import('@inquirer/prompts');
      if (!(await confirm({ message: 'Install the change-log triggers?', default: false }))) return 0;
    }
    const db = new Db(settings, conn.name);
    try {
      for (const o of tables) {
        await db.transaction('', async (q) => { for (const sql of installSql(o.schema, o.table, o.id)) await q.query(sql); });
        process.stdout.write(`✔ change log on ${o.schema}.${o.table}\n`);
      }
    } finally {
      await db.close();
    }
    return 0;
  } catch (err) {
    return renderError(err);
  }
}
