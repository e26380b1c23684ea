/**
 * `npm run bench [-- --quick | --large] [--json] [--seed N] [--keep] [--profile DIR]`
 *
 * Generates its own data (seeded) in a temp folder, runs every workload of
 * issue 8 in child processes and prints one table with the targets.
 */
import { runHubSpotIdle } from './hubspot-idle.js';
import { runWebhooks } from './webhooks.js';
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildRows, renderTable, type BenchResult } from './report.js';
import { runDynamics } from './dynamics.js';
import { renderPostgres, runPostgres } from './postgres.js';
import { runContacts, runHubSpot, type ContactsResult } from './workloads.js';

interface Args {
  quick: boolean; large: boolean; json: boolean; seed: number; keep: boolean; profile?: string; sizes?: number[]; noHubSpot?: boolean; noDynamics?: boolean;
  noPostgres?: boolean; postgresOnly?: boolean; webhooksOnly?: boolean;
  /**
   * W4's rate limit: HubSpot's rate (190 calls per 10 s) in a window 10x
   * shorter (19 per 1 s) by default, so the share of the budget used is
   * measured over ten windows in a ten-second run.
   */
  rate: { max: number; windowMs: number };
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, large: false, json: false, seed: 20240601, keep: false, rate: { max: 19, windowMs: 1_000 } };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') args.quick = true;
    else if (a === '--large') args.large = true;
    else if (a === '--json') args.json = true;
    else if (a === '--keep') args.keep = true;
    else if (a === '--seed') args.seed = Number(argv[++i]);
    else if (a === '--profile') args.profile = resolve(argv[++i] ?? 'bench-profiles');
    else if (a === '--sizes') args.sizes = (argv[++i] ?? '').split(',').filter(Boolean).map(Number);
    else if (a === '--batch-size') process.env.BENCH_BATCH_SIZE = String(Number(argv[++i]));
    else if (a === '--no-hubspot') args.noHubSpot = true;
    else if (a === '--no-dynamics') args.noDynamics = true;
    else if (a === '--no-postgres') args.noPostgres = true;
    else if (a === '--postgres-only') args.postgresOnly = true;
    else if (a === '--webhooks-only') args.webhooksOnly = true;
    else if (a === '--w4-rate') {
      const m = /^(\d+)\/(\d+)ms$/.exec(argv[++i] ?? '');
      if (!m) throw new Error('--w4-rate takes MAX/WINDOWms, e.g. 190/10000ms (HubSpot\'s own limit)');
      args.rate = { max: Number(m[1]), windowMs: Number(m[2]) };
    }
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: npm run bench -- [--quick] [--large] [--json] [options]
  --quick            10,000 contacts, W4 at 2,000 contacts / 400 companies: under a minute
  --large            also W1, W2 and W3 at 1,000,000 contacts (peak RSS, disk written)
  --json             the figures as JSON instead of the table
  --seed N           another data seed (default 20240601)
  --sizes A,B        W1-W3 at these contact counts instead ("" for none)
  --no-hubspot       skip W4
  --no-dynamics      skip W6 (Dynamics 365: 10,000 contacts + 2,000 accounts, or 2,000 + 400 with --quick)
  --no-postgres      skip W1-W3 between SQLite and PostgreSQL (100,000 contacts; 10,000 with --quick)
  --postgres-only    only those
  --webhooks-only    only W7 (HubSpot webhooks into watch: edit-to-SQLite latency over 50 edits, search calls saved)
  --w4-rate M/Wms    W4's rate limit (default 19/1000ms: HubSpot's rate of 190 per 10 s in a 10x shorter
                     window; 190/10000ms is HubSpot's own window, 190/1000ms a limit 10x looser than HubSpot's)
  --profile DIR      write a V8 CPU profile of every sync run into DIR (see bench/profile.ts)
  --batch-size N     what-if: the engine's write batch size (RunOptions.batchSize)
  --keep             keep the generated data (its folder is printed on stderr)
`);
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  if (!Number.isInteger(args.seed)) throw new Error('--seed takes a whole number');
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const root = mkdtempSync(join(tmpdir(), 'datasync-bench-'));
  if (args.profile) mkdirSync(args.profile, { recursive: true });
  log(`bench data in ${root}`);
  const result: BenchResult = {
    mode: args.large ? 'large' : args.quick ? 'quick' : 'full',
    cores: availableParallelism(), node: process.version, platform: `${process.platform}-${process.arch}`,
    seed: args.seed, startedAt: new Date().toISOString(), contacts: [], verdicts: [],
    ...(process.env.BENCH_BATCH_SIZE ? { batchSize: Number(process.env.BENCH_BATCH_SIZE) } : {}),
  };
  try {
    if (args.webhooksOnly) args.noHubSpot = args.noDynamics = args.noPostgres = true;
    const sizes = args.postgresOnly || args.webhooksOnly ? [] : args.sizes ?? (args.quick ? [10_000] : [10_000, 100_000]);
    for (const n of sizes) {
      log(`contacts ${n.toLocaleString('en')}`);
      result.contacts.push(await runContacts({ n, seed: args.seed, root, profileDir: args.profile, log }));
    }
    if (!args.noPostgres) {
      const n = args.quick ? 10_000 : 100_000;
      log(`postgres ${n.toLocaleString('en')}`);
      result.postgres = await runPostgres({ n, seed: args.seed, root, profileDir: args.profile, log });
    }
    if (!args.noHubSpot && !args.postgresOnly) {
      log('hubspot');
      const [contacts, companies] = args.quick ? [2_000, 400] : [10_000, 2_000];
      result.hubspot = await runHubSpot({ contacts, companies, seed: args.seed + 1, root, rate: args.rate, profileDir: args.profile, log });
      // Issue 15: calls against the floor at a larger portal too.
      if (!args.quick) result.hubspotLarge = await runHubSpot({ contacts: 50_000, companies: 10_000, seed: args.seed + 1, root, rate: args.rate, log });
      // Call counts do not depend on the rate limit: a window 10× HubSpot's keeps this part short.
      log('hubspot idle');
      result.hubspotIdle = await runHubSpotIdle({ contacts: args.quick ? 10_000 : 100_000, root, rate: { max: 190, windowMs: 1_000 }, log });
    }
    if (args.webhooksOnly || (!args.noHubSpot && !args.postgresOnly)) {
      log('hubspot webhooks');
      const bin = fileURLToPath(new URL('../../bin/datasync.js', import.meta.url));
      result.webhooks = await runWebhooks({ contacts: args.quick ? 1_000 : 10_000, edits: 50, root, bin, log });
    }
    if (!args.noDynamics && !args.postgresOnly) {
      log('dynamics');
      const [contacts, companies] = args.quick ? [2_000, 400] : [10_000, 2_000];
      result.dynamics = await runDynamics({ contacts, companies, seed: args.seed + 2, root, profileDir: args.profile, log });
    }
    if (args.large) {
      log('contacts 1,000,000 (scale: W1, W2, W3)');
      result.large = await runContacts({ n: 1_000_000, seed: args.seed, root, log });
    }
  } finally {
    if (!args.keep) rmSync(root, { recursive: true, force: true });
  }
  const { rows, verdicts } = buildRows(result);
  result.verdicts = verdicts;
  if (args.json) process.stdout.write(`${JSON.stringify(stripRaw(result), null, 2)}\n`);
  else process.stdout.write(`${renderTable(result, rows)}\n${result.postgres ? `\n${renderPostgres(result.postgres)}\n` : ''}`);
}

/** The child's own report stays out of the JSON (it repeats the figures). */
function stripRaw(r: BenchResult): unknown {
  const strip = (c: ContactsResult) => JSON.parse(JSON.stringify(c, (k, v: unknown) => (k === 'raw' ? undefined : v))) as unknown;
  return { ...r, contacts: r.contacts.map(strip), large: r.large && strip(r.large), hubspot: r.hubspot && strip(r.hubspot as never),
    hubspotLarge: r.hubspotLarge && strip(r.hubspotLarge as never), hubspotIdle: r.hubspotIdle, webhooks: r.webhooks, dynamics: r.dynamics && strip(r.dynamics as never),
    postgres: r.postgres && strip(r.postgres as never) };
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
