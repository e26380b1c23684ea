/** `datasync health [SYNC] [--failed] [--excluded] [--json]` */
import { loadConfig } from '../../config/load.js';
import { configError } from '../../errors.js';
import { health } from '../../health.js';
import type { GlobalOptions } from '../main.js';
import { commandFailed } from '../errors.js';
import { renderHealth } from '../render/health.js';
import { makeStyle } from '../render/style.js';

export default async function healthCommand(flags: { failed?: boolean; excluded?: boolean; json?: boolean }, global: GlobalOptions, args: string[]): Promise<number> {
  try {
    const config = await loadConfig({ file: global.config, cwd: process.cwd(), env: process.env });
    const name = args[0];
    if (name && !config.syncs.some((s) => s.name === name)) {
      throw configError('UNKNOWN_SYNC', `no sync named "${name}" in ${config.file}`, { hint: `syncs defined: ${config.syncs.map((s) => s.name).join(', ')}` });
    }
    const report = health(config, { sync: name, failed: flags.failed, excluded: flags.excluded });
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderHealth(report, makeStyle())}\n`);
    return report.exitCode;
  } catch (err) {
    return commandFailed(err, flags.json);
  }
}
