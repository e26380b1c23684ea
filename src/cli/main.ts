/**
 * The commander program: declares commands and options only. Each action
 * imports its own module (so `datasync --help` starts fast) and returns an
 * exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { configError, EXIT } from '../errors.js';
import { commandFailed } from './errors.js';
import { keepHeapSmall } from './heap.js';
import { errorJson } from './render/json.js';

export interface GlobalOptions {
  config?: string;
}

type Action = (opts: Record<string, unknown>, global: GlobalOptions, args: string[]) => Promise<number>;

/**
 * A reader that went away (`datasync run --dry-run | head`) wants no more
 * output: what is left is dropped, and the command ends as it would have,
 * with its own exit code, instead of dying on an unhandled EPIPE.
 */
function dropOutputWhenClosed(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stream.write = (() => true) as typeof stream.write;
  });
}

export async function main(argv: string[]): Promise<void> {
  keepHeapSmall();
  dropOutputWhenClosed(process.stdout);
  dropOutputWhenClosed(process.stderr);
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

  const collect = (value: string, previous: string[] = []) => [...previous, value];

  program.command('connect')
    .argument('[app]', 'the app to connect: hubspot, sqlite, csv or postgres')
    .description('add a connection: check its credential, read its objects and fields, store it in the state')
    .option('--name <name>', 'the connection name (default: the app name); several connections of one app need different names')
    .option('--token <token>', 'HubSpot private-app token (prefer --token-env: a flag can stay in shell history)')
    .option('--token-env <var>', 'read the token from this environment variable')
    .option('--base-url <url>', 'HubSpot API address (e.g. the bundled emulator, http://127.0.0.1:4010)')
    .option('--path <path>', 'sqlite: the database file; csv: the folder of the CSV files')
    .option('--object <name[=table]>', 'sqlite/csv: an object and its table or file (repeatable; default: every table / NAME.csv)', collect)
    .option('--oauth', 'HubSpot: authorize through OAuth instead of a private-app token')
    .option('--client-id <id>', 'with --oauth: your HubSpot app\'s client id')
    .option('--client-secret <secret>', 'with --oauth: its client secret (or $HUBSPOT_CLIENT_SECRET)')
    .option('--redirect-uri <uri>', 'with --oauth: the redirect URL registered for the app')
    .option('--code <code>', 'with --oauth: the authorization code (asked for when missing)')
    .option('--url <url>', 'postgres: the database URL postgres://USER:PASSWORD@HOST:PORT/DATABASE (prefer --url-env)')
    .option('--url-env <var>', 'postgres: read the URL from this variable; the YAML then says url: ${VAR}')
    .option('--install-triggers', 'postgres: install the change-log triggers on the tables (see docs/postgres.md); sqlite: triggers that keep each updated_at column current, so an UPDATE that leaves it alone is found on the next run')
    .option('--force', 'replace a stored connection of the same name')
    .option('--list', 'list the stored connections (secrets shown as their last four characters at most)')
    .option('--remove <name>', 'remove a stored connection (refused while a sync in the YAML uses it)')
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText('after', '\nCredentials are stored in the state file named by the YAML (`state:`), or in .datasync/state.db\nin the current folder when there is no YAML yet; the YAML gets a block without any secret.\n\nExamples:\n  $ datasync connect hubspot                       # asks for the token (masked)\n  $ datasync connect hubspot --name portal2 --token-env HUBSPOT_TOKEN_2\n  $ datasync connect sqlite --name crm --path ./crm.db --object contacts=people\n  $ datasync connect postgres --name db --url-env DATABASE_URL --object contacts=crm.people --install-triggers\n  $ datasync connect --list\n  $ datasync connect --remove portal2')
    .action(wrap(() => import('./commands/connect.js')));

  program.command('configure')
    .argument('[sync]', 'the sync to edit (or to create with this name)')
    .description('set up a sync step by step (or edit one): connections, object, direction, default app, mappings, rules, filters, associations, review, save')
    .option('--between <a,b>', 'the two connections, comma-separated')
    .option('--object <object>', 'the object to sync: contacts, companies, deals, …')
    .option('--direction <direction>', 'two-way, to-a or to-b (or \'A -> B\' in connection names)')
    .option('--default-app <connection>', 'the connection whose value wins conflicts')
    .option('--map <a:field=b:field>', 'a custom mapping (repeatable); add |values=x:y,… for option values', collect)
    .option('--defaults', 'use the default mappings (the default for a new sync)')
    .option('--no-defaults', 'turn the default mappings off')
    .option('--only-with-email', 'contacts: sync only contacts with an email (the default)')
    .option('--no-only-with-email', 'contacts: also sync contacts without an email')
    .option('--filter <conn:field:op[:value]>', 'a filter condition (repeatable), e.g. crm:country:eq:SE or crm:tags:in:a|b', collect)
    .option('--associations', 'keep links to records of other synced objects (the default)')
    .option('--no-associations', 'do not keep links to records of other synced objects')
    .option('--sync-now', 'after saving, run the sync once ("save and sync")')
    .option('-y, --yes', 'no questions: take the flags (and the current values when editing), save')
    .addHelpText('after', '\nOn a terminal it asks step by step (flags pre-fill the answers). Without a terminal, give --yes\nand at least --between and --object for a new sync.\n\nExamples:\n  $ datasync configure\n  $ datasync configure contacts\n  $ datasync configure contacts --between hubspot,crm --object contacts --direction two-way \\\n      --default-app hubspot --map hubspot:jobtitle=crm:title --yes')
    .action(wrap(() => import('./commands/configure.js')));

  program.command('run')
    .description('one pass of every active sync (or the named ones)')
    .option('--once', 'run one pass and exit (what cron calls; the default)')
    .option('--sync <name...>', 'only these syncs')
    .option('--dry-run', 'print what would change, record by record; write nothing (a big plan: counts and a sample)')
    .option('--full', 'with --dry-run: list every planned action, however many')
    .option('--retry-failed', 'retry failed records now instead of waiting for their next retry')
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText('after', '\nExamples:\n  $ datasync run\n  $ datasync run --dry-run --sync contacts\n  $ datasync run --dry-run --full | less\n  $ datasync -c ./sync.yaml run --json')
    .action(wrap(() => import('./commands/run.js')));

  program.command('health')
    .argument('[sync]', 'only this sync')
    .description('per sync: status, records in sync / failed / excluded, the last run')
    .option('--failed', 'list failed records with the app\'s reason, grouped by reason')
    .option('--excluded', 'list excluded records with their reason')
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText('after', '\nExits 1 when a sync has failed records or its last successful pass is older than three intervals (for cron alerts).\n\nExamples:\n  $ datasync health\n  $ datasync health contacts --failed\n  $ datasync health --json')
    .action(wrap(() => import('./commands/health.js')));

  program.command('validate')
    .description('check the YAML, each connection (credential, objects, fields) and the mappings; reads and writes no record')
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText('after', '\nExits 0 when everything checks out, 2 for a configuration problem, 3 when an app cannot be reached.\n\nExamples:\n  $ datasync validate\n  $ datasync -c ./sync.yaml validate --json')
    .action(wrap(() => import('./commands/validate.js')));

  program.command('doctor')
    .description('validate, then the state file, tables without a change cursor, default mappings over reference columns, duplicate syncs, missing scopes')
    .option('--json', 'print the findings as JSON on stdout')
    .addHelpText('after', '\nEach finding says what to do. Exits 0 when nothing needs fixing (warnings included), else the code of the worst problem (2 or 3).\n\nExamples:\n  $ datasync doctor\n  $ datasync doctor --json')
    .action(wrap(async () => ({ default: (await import('./commands/validate.js')).doctorCommand })));

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
    .option('--listen <host:port>', 'receive HubSpot webhooks here (default: each HubSpot connection\'s `webhooks.listen`; without a `webhooks:` block the secret comes from HUBSPOT_CLIENT_SECRET)')
    .addHelpText('after', '\nA `datasync run` from another terminal asks the watcher for a pass now; `datasync stop SYNC` takes effect at its next step.\nWith webhooks (a `webhooks:` block on a HubSpot connection, or --listen), each HubSpot change is read within seconds; polling goes on.\n\nExamples:\n  $ datasync watch\n  $ datasync watch --interval 30s\n  $ HUBSPOT_CLIENT_SECRET=… datasync watch --interval 1h --listen 127.0.0.1:8480')
    .action(wrap(() => import('./commands/watch.js')));

  program.command('postgres')
    .argument('<command>', 'install-triggers')
    .description('PostgreSQL: install the change-log triggers on the tables of a postgres connection (with your consent)')
    .option('--connection <name>', 'the postgres connection (default: the only one in the YAML)')
    .option('-y, --yes', 'do not ask (consent given)')
    .addHelpText('after', '\nExample:\n  $ datasync postgres install-triggers --connection db --yes')
    .action(wrap(() => import('./commands/postgres.js')));

  // A script that asked for JSON gets JSON, even for a mistyped option.
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with code 0; commander printed its message.
      exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.config;
      if (json && exitCode !== EXIT.ok) {
        process.stdout.write(`${JSON.stringify(errorJson(configError('USAGE', err.message.replace(/^error: /, '')), exitCode), null, 2)}\n`);
      }
    } else {
      exitCode = commandFailed(err, json);
    }
  }
  process.exitCode = exitCode;
}

export { Option };
