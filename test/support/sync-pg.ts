/**
 * A synchronous PostgreSQL client for test harnesses whose checks are
 * synchronous (the model property test's World reads and edits its apps
 * between awaits): a worker thread holds a `pg` connection, and each query
 * blocks this thread (Atomics.wait) until the worker answers. It is another
 * program's connection, as a person's SQL would be; the code under test keeps
 * its own asynchronous connection.
 *
 * Never use it while the code under test holds a transaction the query could
 * wait for: this thread is blocked and cannot finish that transaction.
 */
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const pg = require(workerData.pg);
const { signal, port, url } = workerData;
const flag = new Int32Array(signal);
const client = new pg.Client({ connectionString: url });
const ready = client.connect().then(() => client.query("SET TimeZone = 'UTC'"));
const answer = (m) => { port.postMessage(m); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); };
parentPort.on('message', async (m) => {
  if (m === 'end') { await client.end().catch(() => undefined); process.exit(0); }
  try {
    await ready;
    const r = await client.query(m.sql, m.params);
    answer({ rows: r.rows, rowCount: r.rowCount });
  } catch (err) {
    answer({ error: String(err && err.message || err), code: err && err.code });
  }
});
`;

export class SyncPgError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}

export class SyncPg {
  private readonly worker: Worker;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessageChannel['port1'];

  constructor(url: string) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: { pg: createRequire(import.meta.url).resolve('pg'), url, signal: this.flag.buffer, port: port2 },
      transferList: [port2],
    });
    this.worker.unref();
  }

  query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): R[] {
    Atomics.store(this.flag, 0, 0);
    this.worker.postMessage({ sql, params });
    if (Atomics.wait(this.flag, 0, 0, 30_000) === 'timed-out') throw new Error(`SyncPg: no answer in 30 s to ${sql}`);
    const m = receiveMessageOnPort(this.port)?.message as { rows?: R[]; error?: string; code?: string } | undefined;
    if (!m) throw new Error(`SyncPg: no message for ${sql}`);
    if (m.error !== undefined) throw new SyncPgError(`${m.error} (in ${sql})`, m.code);
    return m.rows!;
  }

  end(): void {
    this.worker.postMessage('end');
  }
}
