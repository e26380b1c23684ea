/**
 * `datasync stop SYNC [--delete] [--yes]` and `datasync start SYNC`.
 * Stopping only flips a flag in the state: a running watcher or run sees it
 * at its next batch. Links and cursors stay, so `start` resumes without a
 * new initial scan. `--delete` forgets links, base, cursors and history.
 */
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/types.js';
import { configError, DatasyncError } from '../../errors.js';
import { describeHolder, isAlive, readLock } from '../../state/lock.js';
import { openState } from '../../state/open.js';
import { StateStore } from '../../state/store.js';
import type { GlobalOptions } from '../main.js';
import { renderError } from '../errors.js';

function findSync(config: Config, name: string | undefined) {
  const sync = config.syncs.find((s) => s.name === name);
  if (!sync) {
    throw configError('UNKNOWN_SYNC', name ? `no sync named "${name}" in ${config.file}` : 'name the sync to stop',
      { hint: `syncs defined: ${config.syncs.map((s) => s.name).join(', ') || 'none'}` });
  }
  return sync;
}

/**
 * Under `match: none` the links are the only thing that pairs records: once
 * forgotten, the next run creates every record of each side in the other
 * app again. Said before anything is forgotten.
 */
function rematchWarning(sync: Config['syncs'][number]): string | null {
  return sync.match === 'none'
    ? `"${sync.name}" has \`match: none\`: nothing pairs its records again, so the next run would create every record of `
      + `${sync.between[0]} in ${sync.between[1]} and of ${sync.between[1]} in ${sync.between[0]} once more (duplicates of all of them)`
    : null;
}

async function confirmDelete(sync: Config['syncs'][number], yes: boolean | undefined): Promise<boolean> {
  const warning = rematchWarning(sync);
  if (warning) process.stderr.write(`datasync: warning: ${warning}\n`);
  if (yes) return true;
  if (!process.stdin.isTTY) {
    throw configError('CONFIRM_NEEDED', `stop --delete forgets every link of "${sync.name}" and cannot be undone${warning ? `; ${warning}` : ''}`,
      { hint: 'add --yes to confirm when there is no terminal' });
  }
  const { confirm } = await import('@inquirer/prompts');
  return confirm({
    message: `Forget every link, base, cursor and the history of "${sync.name}"? Records in the apps are not touched.${warning ? ' The next run would create every record again.' : ''}`,
    default: false,
  });
}

export default async function stop(flags: { delete?: boolean; yes?: boolean }, global: GlobalOptions, args: string[]): Promise<number> {
  try {
    const config = await loadConfig({ file: global.config, cwd: process.cwd(), env: process.env });
    const sync = findSync(config, args[0]);
    if (flags.delete) {
      const holder = readLock(config.state);
      if (holder && isAlive(holder) && !holder.watch) {
        throw new DatasyncError('lock', 'LOCKED', `a run is in progress: ${describeHolder(holder)}`,
          { hint: `run \`datasync stop ${sync.name}\` first, wait for the run to end, then --delete` });
      }
      if (!(await confirmDelete(sync, flags.yes))) {
        process.stderr.write('nothing deleted\n');
        return 0;
      }
    }
    const store = new StateStore(openState(config.state));
    try {
      store.ensureSync(sync.name, sync.object, sync.between[0], sync.between[1]);
      store.setEnabled(sync.name, false);
      store.setSyncStatus(sync.name, 'stopped', 'stopped by `datasync stop`');
      if (flags.delete) store.forgetSync(sync.name);
    } finally {
      store.db.close();
    }
    process.stdout.write(flags.delete
      ? `${sync.name}: stopped; its links, base, cursors and history are forgotten (the next run starts with a full scan)\n`
      : `${sync.name}: stopped; links and cursors kept. Resume with \`datasync start ${sync.name}\`\n`);
    return 0;
  } catch (err) {
    return renderError(err);
  }
}

export async function start(_flags: unknown, global: GlobalOptions, args: string[]): Promise<number> {
  try {
    const config = await loadConfig({ file: global.config, cwd: process.cwd(), env: process.env });
    const sync = findSync(config, args[0]);
    const store = new StateStore(openState(config.state));
    try {
      const row = store.ensureSync(sync.name, sync.object, sync.between[0], sync.between[1]);
      store.setEnabled(sync.name, true);
      store.setSyncStatus(sync.name, row.last_success_at ? 'listening' : 'idle', null);
    } finally {
      store.db.close();
    }
    const note = sync.enabled ? '' : ` (note: ${config.file} also says \`enabled: false\` for it; set it to true)`;
    process.stdout.write(`${sync.name}: active again; the next run resumes from the saved cursors${note}\n`);
    return 0;
  } catch (err) {
    return renderError(err);
  }
}
