/**
 * The `postgres` connection block:
 *
 *   db:
 *     app: postgres
 *     url: ${DATABASE_URL}            # or host/port/database/user/password
 *     ssl: require                    # disable | require | verify-full | { mode, ca, cert, key }
 *     schema: public                  # for tables named without a schema (default public)
 *     batch_size: 1000                # records per read page and per write transaction
 *     statement_timeout: 30000        # ms per statement (default 30 s; 0: the server's own)
 *     objects:
 *       contacts: { table: crm.people, id: id, updated_at: updated_at, changes: auto,
 *                   associations: { company: { field: company_id, object: companies } } }
 *
 * `changes` picks how changes are found: `triggers` (the change log of
 * `datasync postgres install-triggers`), `updated_at` (the column as cursor),
 * `scan` (a full scan with fingerprints) or `auto` (the default: the change
 * log when its trigger is on the table, else `updated_at` when given, else a
 * scan). A credential stored by `datasync connect` arrives as `credential:`
 * (`{ url }` or `{ password }`) and wins over the YAML keys.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClientConfig } from 'pg';
import type { ConnectionConfig } from '../../src/connector.js';
import { ConfigReader, type ObjectConfigBase } from '../shared/object-config.js';

export const CHANGE_MODES = ['auto', 'triggers', 'updated_at', 'scan'] as const;
export type ChangeMode = (typeof CHANGE_MODES)[number];

export interface PgObjectConfig extends ObjectConfigBase {
  schema: string;
  table: string;
  updatedAt?: string;
  changes: ChangeMode;
}

export interface PgSettings {
  client: ClientConfig;
  /** host:port/database, for messages (never the password). */
  shown: string;
  objects: Map<string, PgObjectConfig>;
  batchSize: number;
  statementTimeoutMs: number;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `crm.people` → ['crm', 'people']; `people` → [defaultSchema, 'people']. */
export function splitTable(name: string, defaultSchema: string): [string, string] {
  const dot = name.indexOf('.');
  return dot > 0 ? [name.slice(0, dot), name.slice(dot + 1)] : [defaultSchema, name];
}

function sslOption(reader: ConfigReader, raw: unknown, baseDir: string): ClientConfig['ssl'] {
  if (raw === undefined || raw === false || raw === 'disable') return undefined;
  const block = isMap(raw) ? raw : { mode: raw === true ? 'require' : raw };
  const mode = block.mode ?? 'verify-full';
  if (mode !== 'require' && mode !== 'verify-full' && mode !== 'disable') {
    reader.fail('', `\`ssl\` must be disable, require, verify-full or { mode, ca, cert, key } (got ${String(mode)})`, 'ssl');
  }
  if (mode === 'disable') return undefined;
  const file = (key: string) => block[key] === undefined ? undefined
    : readFileSync(resolve(baseDir, reader.string(block[key], '', `ssl.${key}`)), 'utf8');
  return { rejectUnauthorized: mode === 'verify-full', ca: file('ca'), cert: file('cert'), key: file('key') };
}

export function parseSettings(config: ConnectionConfig): PgSettings {
  const reader = new ConfigReader(config);
  const stored = isMap(config.credential) ? config.credential : {};
  const url = stored.url ?? config.url;
  const client: ClientConfig = {};
  let shown: string;
  if (url !== undefined) {
    const text = reader.string(url, '', 'url');
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      return reader.fail('', '`url` is not a postgres:// URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)', 'url');
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') reader.fail('', '`url` must start with postgres://', 'url');
    client.connectionString = text;
    shown = `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } else {
    const host = config.host === undefined ? 'localhost' : reader.string(config.host, '', 'host');
    const port = config.port === undefined ? 5432 : Number(config.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) reader.fail('', '`port` must be a port number', 'port');
    const database = config.database === undefined ? 'postgres' : reader.string(config.database, '', 'database');
    Object.assign(client, { host, port, database, user: config.user === undefined ? undefined : reader.string(config.user, '', 'user') });
    const password = stored.password ?? config.password;
    if (password !== undefined) client.password = reader.string(password, '', 'password');
    shown = `${host}:${port}/${database}`;
  }
  const ssl = sslOption(reader, config.ssl, config.baseDir);
  if (ssl) client.ssl = ssl;
  const defaultSchema = config.schema === undefined ? 'public' : reader.string(config.schema, '', 'schema');
  const objects = new Map<string, PgObjectConfig>();
  for (const [name, base] of reader.objects()) {
    const where = `object ${name}`;
    const [schema, table] = splitTable(base.raw.table === undefined ? name : reader.string(base.raw.table, where, `objects.${name}.table`), defaultSchema);
    const updatedAt = reader.optionalString(base.raw.updated_at, where, `objects.${name}.updated_at`);
    const changes = (base.raw.changes ?? 'auto') as ChangeMode;
    if (!CHANGE_MODES.includes(changes)) reader.fail(where, `\`changes\` must be one of ${CHANGE_MODES.join(', ')}`, `objects.${name}.changes`);
    if (changes === 'updated_at' && !updatedAt) reader.fail(where, '`changes: updated_at` needs `updated_at: COLUMN`', `objects.${name}.updated_at`);
    objects.set(name, { ...base, schema, table, updatedAt, changes });
  }
  const timeout = config.statement_timeout === undefined ? 30_000 : Number(config.statement_timeout);
  if (!Number.isInteger(timeout) || timeout < 0) reader.fail('', '`statement_timeout` must be a whole number of ms', 'statement_timeout');
  return { client, shown, objects, batchSize: reader.positiveInt('batch_size', 1000), statementTimeoutMs: timeout };
}
