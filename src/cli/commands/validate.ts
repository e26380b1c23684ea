/** `datasync validate [--json]` and `datasync doctor [--json]` (SPEC §6). */
import { loadConfig } from '../../config/load.js';
import { configFindings, doctor, validateConfig, type DoctorReport, type Finding } from '../../doctor.js';
import { DatasyncError } from '../../errors.js';
import type { GlobalOptions } from '../main.js';
import { commandFailed } from '../errors.js';
import { makeStyle, type Style } from '../render/style.js';

export default async function validate(flags: { json?: boolean }, global: GlobalOptions): Promise<number> {
  try {
    const config = await loadConfig({ file: global.config, cwd: process.cwd(), env: process.env });
    const { syncs, described } = await validateConfig(config);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({
        version: 1, config: config.file, valid: true,
        connections: [...described].map(([name, objects]) => ({ name, app: config.connections[name]!.app, objects: objects.map((o) => ({ name: o.name, fields: o.fields.length, changeCursor: o.capabilities.changeCursor })) })),
        syncs: syncs.map((p) => ({ name: p.sync.name, object: p.sync.object, between: p.sync.between, mappings: p.mappings.length })),
      }, null, 2)}\n`);
      return 0;
    }
    const style = makeStyle();
    const lines = [`${style.green('✔')} ${config.file}: the configuration is valid`];
    for (const [name, objects] of described) {
      lines.push(`${style.green('✔')} connection ${name} (${config.connections[name]!.app}): answered; ${objects.map((o) => `${o.name} (${o.fields.length} field${o.fields.length === 1 ? '' : 's'})`).join(', ')}`);
    }
    for (const p of syncs) lines.push(`${style.green('✔')} sync ${p.sync.name}: ${p.sync.object}, ${p.sync.between.join(' ↔ ')}, ${p.mappings.length} mapped field${p.mappings.length === 1 ? '' : 's'}`);
    lines.push(style.dim('nothing was read or written: only the credentials, objects and fields were checked'));
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    return commandFailed(err, flags.json);
  }
}

export async function doctorCommand(flags: { json?: boolean }, global: GlobalOptions): Promise<number> {
  try {
    const where = { file: global.config, cwd: process.cwd(), env: process.env };
    const report = await loadConfig(where).then(doctor, (err: unknown) => {
      if (err instanceof DatasyncError && err.kind === 'config' && err.code === 'CONFIG_INVALID') return configFindings(where.file ?? 'sync.yaml', err);
      throw err;
    });
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderDoctor(report, makeStyle())}\n`);
    return report.exitCode;
  } catch (err) {
    return commandFailed(err, flags.json);
  }
}

function renderDoctor(report: DoctorReport, style: Style): string {
  const mark = (f: Finding) => (f.level === 'ok' ? style.green('✔') : f.level === 'warning' ? style.yellow('!') : style.red('✖'));
  const lines = report.findings.map((f) => `${mark(f)} ${f.message}${f.fix ? `\n    what to do: ${f.fix}` : ''}`);
  const problems = report.findings.filter((f) => f.level === 'problem').length;
  const warnings = report.findings.filter((f) => f.level === 'warning').length;
  lines.push(problems + warnings === 0 ? 'nothing to fix' : `${problems} problem${problems === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  return lines.join('\n');
}
