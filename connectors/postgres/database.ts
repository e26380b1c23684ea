/**
 * One connection to the user's PostgreSQL server, and its failures turned
 * into errors a person can act on.
 *
 * Statements that fail for a passing reason — serialization failure,
 * deadlock, statement_timeout, a server restart or a dropped connection —
 * are retried a few times, reconnecting when needed. A transaction is
 * retried whole, and only when it failed before its COMMIT was sent: after
 * that its outcome is unknown, so the run stops (the engine's journal of
 * pending creates finds such records on the next run instead of making them
 * twice).
 *
 * Each statement is bounded on the client too (`statement_timeout` plus
 * QUERY_SLACK_MS): a server, or a network to it, that stops answering
 * without refusing anything (a frozen server, a firewall dropping packets)
 * would otherwise keep a run waiting for ever. Such a silence is not retried:
 * the run stops with exit 3 and the next run tries again.
 */
import pg from 'pg';
import { appError, configError, DatasyncError } from '../../src/errors.js';
import type { PgSettings } from './config.js';

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const qualified = (schema: string, table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;

/** The transaction-local setting that tags datasync's own writes for the change-log triggers. */
export const WRITER_SETTING = 'datasync.writer';

type Params = unknown[];
export interface Queryable {
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: Params, name?: string): Promise<pg.QueryResult<R>>;
}

const RETRIES = 5;
/** SQLSTATEs worth trying again: serialization failure, deadlock, query canceled (statement_timeout), lock timeout, shutdown/restart, too many connections. */
const TRANSIENT = new Set(['40001', '40P01', '57014', '55P03', '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006']);
const NETWORK = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|Connection terminated|connection ended|Client has encountered a connection error/i;

export const sqlState = (err: unknown): string | undefined =>
  typeof (err as { code?: unknown })?.code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code) ? (err as { code: string }).code : undefined;

/** A TLS handshake that failed: the certificate not trusted, not for this host, expired; or no TLS at the server. */
const TLS_CODES = /CERT|SIGNATURE|SELF_SIGNED|ISSUER|^ERR_TLS|^ERR_SSL/;
export function isTlsFailure(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return (typeof code === 'string' && TLS_CODES.test(code)) || /does not support SSL connections/i.test((err as Error)?.message ?? '');
}

export function isTransient(err: unknown): boolean {
  const code = sqlState(err);
  if (code) return TRANSIENT.has(code);
  return err instanceof Error && NETWORK.test(`${(err as { code?: string }).code ?? ''} ${err.message}`);
}

/** Failures of one row only (constraints, bad values, no privilege on it); others stop the batch. */
export function isRowLevel(err: unknown): err is Error {
  const code = sqlState(err);
  return code !== undefined && (code.startsWith('23') || code.startsWith('22') || code === '42501' || code === '42804' || code === 'P0001');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How much longer than `statement_timeout` the client waits for an answer (the server's cancel included). */
export const QUERY_SLACK_MS = 2000;
/** What pg rejects a statement with when `query_timeout` passed without an answer. */
const NO_ANSWER = /^Query read timeout$/;

export class Db implements Queryable {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;

  constructor(private readonly settings: PgSettings, private readonly connection: string) {}

  private get where(): string {
    return `connection ${this.connection}: PostgreSQL ${this.settings.shown}`;
  }

  private async open(): Promise<pg.Client> {
    if (this.client) return this.client;
    this.connecting ??= (async () => {
      const bound = this.settings.statementTimeoutMs;
      const client = new pg.Client({
        ...this.settings.client, application_name: 'datasync', connectionTimeoutMillis: 10_000, keepAlive: true,
        ...(bound > 0 ? { query_timeout: bound + QUERY_SLACK_MS } : {}),
      });
      // A dropped connection emits 'error' on the client; without a listener it would crash the process.
      client.on('error', () => { if (this.client === client) this.client = undefined; });
      client.on('end', () => { if (this.client === client) this.client = undefined; });
      try {
        await client.connect();
        await client.query(`SET TimeZone = 'UTC'; SET statement_timeout = ${Number(this.settings.statementTimeoutMs)}`);
      } catch (err) {
        await client.end().catch(() => undefined);
        throw this.connectError(err);
      }
      this.client = client;
      return client;
    })().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  /** One statement, retried (with a new connection when the old one is gone) on a passing failure. */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: Params = [], name?: string): Promise<pg.QueryResult<R>> {
    return this.retrying(async () => (await this.open()).query<R>(name ? { name, text: sql, values: params } : { text: sql, values: params }));
  }

  /**
   * `fn` inside one transaction that tags its writes as datasync's
   * (`SET LOCAL`, see changelog.ts) with `tag`; retried whole while it fails
   * before COMMIT for a passing reason.
   */
  async transaction<T>(tag: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.retrying(async () => {
      const client = await this.open();
      const q: Queryable = {
        query: (sql, params = [], name) => client.query(name ? { name, text: sql, values: params } : { text: sql, values: params }),
      };
      await client.query('BEGIN');
      let result: T;
      try {
        await client.query(`SELECT set_config($1, $2, true)`, [WRITER_SETTING, tag]);
        result = await fn(q);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      try {
        await client.query('COMMIT');
      } catch (err) {
        // Unknown outcome: not retried.
        const f = this.failure(err, 'committing a write batch', false);
        throw f instanceof DatasyncError ? new DatasyncError(f.kind, 'PG_COMMIT_UNKNOWN', f.message, { hint: f.hint, transient: true, cause: err }) : f;
      }
      return result;
    });
  }

  private async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        const again = i + 1 < RETRIES;
        if (err instanceof Error && NO_ANSWER.test(err.message)) {
          // The connection is in an unknown state, and a server this quiet is not asked again in this run.
          await this.drop();
          const waited = this.settings.statementTimeoutMs + QUERY_SLACK_MS;
          throw appError('PG_NO_ANSWER', `${this.where} did not answer a statement within ${waited / 1000} s `
            + `(statement_timeout ${this.settings.statementTimeoutMs} ms and ${QUERY_SLACK_MS / 1000} s more): the server or the network to it stopped answering`, {
            transient: true, hint: 'the next run tries again; if the statements are slow rather than stuck, raise `statement_timeout` of the connection', cause: err,
          });
        }
        if (err instanceof DatasyncError) {
          // A server that is down or starting up (after a restart) is waited for; a COMMIT of unknown outcome is not retried.
          if (!(again && err.code === 'PG_UNREACHABLE')) throw err;
          await sleep(200 * 2 ** i);
          continue;
        }
        if (again && isTransient(err)) {
          if (!sqlState(err) || sqlState(err)!.startsWith('57P') || sqlState(err)!.startsWith('08')) await this.drop();
          await sleep(100 * 2 ** i);
          continue;
        }
        throw this.failure(err, undefined, true);
      }
    }
  }

  private async drop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.drop();
  }

  private connectError(err: unknown): Error {
    const code = sqlState(err);
    const msg = (err as Error)?.message ?? String(err);
    if (code === '28000' && /no encryption/.test(msg)) {
      return appError('PG_AUTH', `${this.where} refused the login: ${msg}`, {
        hint: `the server takes only TLS connections: set \`ssl: verify-full\` (with \`ssl.ca\` for a private CA) or \`ssl: require\` on connection ${this.connection}`, cause: err,
      });
    }
    if (code === '28P01' || code === '28000') {
      return appError('PG_AUTH', `${this.where} refused the login: ${msg}`, {
        hint: `check the user and password of connection ${this.connection} (\`url\`, or \`user\`/\`password\`)`, cause: err,
      });
    }
    if (isTlsFailure(err)) {
      const ssl = `\`ssl\` of connection ${this.connection}`;
      if (/does not support SSL/i.test(msg)) {
        return appError('PG_TLS', `${this.where} does not take TLS connections (${msg})`, {
          hint: `turn ssl on at the server, or set ${ssl} to disable (the connection is then not encrypted)`, cause: err,
        });
      }
      const name = (err as { code?: string }).code === 'ERR_TLS_CERT_ALTNAME_INVALID';
      return appError('PG_TLS', `${this.where}: the server's TLS certificate was not accepted: ${msg}`, {
        hint: name
          ? `connect by a name the certificate is for (the host in \`url\`, or \`host\`), or set ${ssl} to require (encrypted, certificate not checked)`
          : `set \`ssl.ca\` of connection ${this.connection} to the file of the CA that signed the server's certificate, or ${ssl} to require (encrypted, certificate not checked)`,
        cause: err,
      });
    }
    if (code === '3D000') {
      return configError('PG_NO_DATABASE', `${this.where}: ${msg}`, { hint: `check the database name in \`url\` (or \`database\`) of connection ${this.connection}` });
    }
    if (code && !TRANSIENT.has(code)) return appError('PG_CONNECT', `${this.where}: cannot connect: ${msg}`, { cause: err });
    return appError('PG_UNREACHABLE', `${this.where} cannot be reached (${msg})`, {
      hint: `check that the server is running and that host and port of connection ${this.connection} are right`, transient: true, cause: err,
    });
  }

  /** A failure that is not about one record. */
  failure(err: unknown, doing?: string, retried = true): Error {
    if (err instanceof DatasyncError) return err;
    const code = sqlState(err);
    const msg = (err as Error)?.message ?? String(err);
    const during = doing ? ` while ${doing}` : '';
    if (code === '42P01' || code === '42703' || code === '3F000') {
      return configError('PG_SCHEMA', `${this.where}: ${msg}`, { hint: `check the objects of connection ${this.connection} against the database (\`datasync connect postgres\` lists its tables)` });
    }
    if (code === '42501') {
      return configError('PG_PERMISSION', `${this.where}: ${msg}`, { hint: 'GRANT the connection\'s user SELECT (and INSERT, UPDATE to write) on the table' });
    }
    if (!code && !isTransient(err)) return err instanceof Error ? err : new Error(msg);
    if (isTransient(err)) {
      return appError('PG_UNAVAILABLE', `${this.where} failed${during}${retried ? ` (after ${RETRIES} tries)` : ''}: ${msg}`, {
        hint: 'the server was restarting, dropped the connection or was busy; run again (nothing is lost: the next run resumes)', transient: true, cause: err,
      });
    }
    return appError('PG_ERROR', `${this.where}${during}: ${msg}`, { cause: err });
  }
}
