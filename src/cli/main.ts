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
      const positional = args.slice(0, -2).map(String);
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
