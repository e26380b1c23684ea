/**
 * The commander program: declares commands and options only. Each action
 * imports its own module (so `datasync --help` starts fast) and returns an
 * exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { renderError } from './errors.js';

export interface GlobalOptions {
  config?: string;
}

type Action = (opts: Record<string, unknown>, global: GlobalOptions, args: string[]) => Promise<number>;

export async function main(argv: string[]): Promise<void> {
  let exitCode = 0;
  const program = new Command('datasync')
    .description('Keep the records of two apps in step (HubSpot, SQLite, CSV), one way or both ways.')
    .option('-c, --config <path>', 'the sync definition (default: $DATASYNC_CONFIG or ./sync.yaml)')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();

  const wrap = (load: () => Promise<{ default: Action }>) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      const positional = args.slice(0, -2).filter((a) => a !== undefined).map(String);
      const action = (await load()).default;
      exitCode = await action(cmd.opts(), program.opts<GlobalOptions>(), positional);
    };

  program.command('run')
    .description('one pass of every active sync (or the named ones)')
    .option('--once', 'run one pass and exit (what cron calls; the default)')
    .option('--sync <name...>', 'only these syncs')
    .option('--dry-run', 'print what would change, record by record; write nothing')
    .option('--retry-failed', 'retry failed records now instead of waiting for their next retry')
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText('after', '\nExamples:\n  $ datasync run\n  $ datasync run --dry-run --sync contacts\n  $ datasync -c ./sync.yaml run --json')
    .action(wrap(() => import('./commands/run.js')));

  program.command('health')
    .argument('[sync]', 'only this sync')
    .description('per sync: status, records in sync / failed / excluded, the last run')
    .option('--failed', 'list failed records with the app\'s reason, grouped by reason')
    .option('--excluded', 'list excluded records with their reason')
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText('after', '\nExits 1 when a sync has failed records or its last successful pass is older than three intervals (for cron alerts).\n\nExamples:\n  $ datasync health\n  $ datasync health contacts --failed\n  $ datasync health --json')
    .action(wrap(() => import('./commands/health.js')));

  program.command('stop')
    .argument('<sync>', 'the sync to turn off')
    .description('turn a sync off: nothing moves until `datasync start`; its links are kept')
    .option('--delete', 'also forget its links, base, cursors and history')
    .option('-y, --yes', 'do not ask for confirmation (with --delete)')
    .addHelpText('after', '\nExamples:\n  $ datasync stop contacts\n  $ datasync stop contacts --delete --yes')
    .action(wrap(() => import('./commands/stop.js')));

  program.command('start')
    .argument('<sync>', 'the sync to turn on again')
    .description('turn a stopped sync on again; it resumes from its saved cursors')
    .addHelpText('after', '\nExample:\n  $ datasync start contacts')
    .action(wrap(async () => ({ default: (await import('./commands/stop.js')).start })));

  program.command('watch')
    .description('run a pass, then poll each app at the interval; Ctrl-C or SIGTERM stops after the record in hand')
    .option('--interval <duration>', 'time between passes, e.g. 30s, 5m, 1h (default: `interval:` in the YAML, else 5m)')
    .addHelpText('after', '\nA `datasync run` from another terminal asks the watcher for a pass now; `datasync stop SYNC` takes effect at its next step.\n\nExamples:\n  $ datasync watch\n  $ datasync watch --interval 30s')
    .action(wrap(() => import('./commands/watch.js')));

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      exitCode = err.exitCode === 0 ? 0 : 2;
    } else {
      exitCode = renderError(err);
    }
  }
  process.exitCode = exitCode;
}

export { Option };
