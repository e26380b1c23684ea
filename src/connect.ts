/**
 * `datasync connect` as functions that return data: add a connection (check
 * the credential, describe the app, store it), list and remove them. The
 * credential lives only in the state (0600); the YAML gets a block without
 * any secret, and every message passes through a scrubber that leaves at most
 * a secret's last four characters.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ConnectionConfig, ObjectSpec } from './connector.js';
import { CONNECTION_NAME } from './config/schema.js';
import { addConnection, declaredConnections, declaredSyncs, type ConnectionYaml } from './config/connections.js';
import { loadConnector } from './connectors.js';
import { configError, DatasyncError, maskSecrets, redact } from './errors.js';
import { discoverObjects } from './connect/discover.js';
import { openState } from './state/open.js';
import { StateStore } from './state/store.js';
import type { ConfigPlace } from './connect/place.js';
import { writeConfigText } from './connect/place.js';

export interface ConnectRequest {
  app: string;
  name?: string;
  /** HubSpot private-app token. */
  token?: string;
  /** HubSpot OAuth credential (from the authorize flow). */
  oauth?: { client_id: string; client_secret: string; refresh_token: string; access_token?: string; expires_at?: number };
  baseUrl?: string;
  /** sqlite: the database file; csv: the folder of the files (relative to the cwd). */
  path?: string;
  /** `NAME` or `NAME=TABLE` (sqlite) / `NAME=FILE` (csv). */
  objects?: string[];
  force?: boolean;
  /** postgres: the connection URL, and the variable it came from (then the YAML names the variable, not the URL). */
  url?: string;
  urlEnv?: string;
  /** postgres: install the change-log triggers on the tables (the user's consent). */
  installTriggers?: boolean;
}

export interface ConnectionInfo {
  /** `changes`: how the app finds changes in the object, when it says (postgres). */
  objects: Array<{ name: string; fields: number; changes?: string; associations?: string[] }>;
  checkedAt: string;
  /** The non-secret settings, to write a YAML block later (`configure`). Paths are absolute. */
  settings: Record<string, unknown>;
}

export interface ConnectResult {
  name: string;
  app: string;
  /** At most the last four characters of the secret, or null when the app has none. */
  secret: string | null;
  objects: ConnectionInfo['objects'];
  state: string;
  /** The YAML file the connection block was added to, when it was. */
  configUpdated: string | null;
}

export interface ConnectionRow {
  name: string;
  app: string;
  secret: string | null;
  created: string;
  objects: ConnectionInfo['objects'];
  inConfig: boolean;
}

/** The secret strings of a stored credential (token, OAuth tokens and client secret). */
export function secretsOf(credential: Record<string, unknown>): string[] {
  const out: string[] = [];
  const visit = (v: unknown, key: string) => {
    if (typeof v === 'string' && /token|secret|password|^url$/i.test(key) && v.length > 0) out.push(v);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, k);
  };
  visit(credential, '');
  return out;
}

/** How a stored credential is shown: its main secret's last four characters. */
export function shownSecret(credential: Record<string, unknown>): string | null {
  if (typeof credential.token === 'string') return redact(credential.token);
  const oauth = credential.oauth as Record<string, unknown> | undefined;
  if (oauth && typeof oauth.refresh_token === 'string') return `oauth ${redact(oauth.refresh_token)}`;
  if (typeof credential.url === 'string') return `url ${redact(credential.url)}`;
  return null;
}

/** Replaces every secret in an error's text by its redacted form. */
export function scrubError(err: unknown, secrets: string[]): unknown {
  const live = secrets.filter((s) => s.length > 0);
  if (live.length === 0) return err;
  const scrub = (s: string | undefined) => (s === undefined ? s : maskSecrets(s, live));
  if (err instanceof DatasyncError) {
    return new DatasyncError(err.kind, err.code, scrub(err.message)!, {
      hint: scrub(err.hint), problems: err.problems?.map((p) => scrub(p)!), transient: err.transient,
    });
  }
  const e = err as Error;
  return new Error(scrub(e?.message ?? String(err)));
}

export async function connect(place: ConfigPlace, req: ConnectRequest): Promise<ConnectResult> {
  const secrets = [req.token ?? '', req.url ?? '', req.oauth?.access_token ?? '', req.oauth?.refresh_token ?? '', req.oauth?.client_secret ?? ''];
  try {
    return await addOne(place, req);
  } catch (err) {
    throw scrubError(err, secrets);
  }
}

async function addOne(place: ConfigPlace, req: ConnectRequest): Promise<ConnectResult> {
  const name = req.name ?? req.app;
  if (!CONNECTION_NAME.test(name)) {
    throw configError('BAD_NAME', `"${name}" is not a valid connection name`, { hint: 'use letters, digits, - and _, starting with a letter (--name NAME)' });
  }
  const factory = await loadConnector(req.app);
  const yamlBlock = place.source === undefined ? undefined : declaredConnections(place.source).get(name);
  if (yamlBlock && yamlBlock.app !== req.app) {
    throw configError('CONNECTION_EXISTS', `${place.shown} already defines connection "${name}" as app ${String(yamlBlock.app)}`, { hint: 'choose another name with --name NAME' });
  }
  const stored = existsSync(place.state) ? withStore(place.state, (s) => s.getConnection(name), true) : undefined;
  if (stored && !req.force) {
    throw configError('CONNECTION_EXISTS', `a connection named "${name}" (${stored.app}) is stored already`, {
      hint: `choose another name with --name NAME, add --force to replace it, or \`datasync connect --remove ${name}\``,
    });
  }

  const { settings, credential } = await buildSettings(req, yamlBlock);
  const config: ConnectionConfig = { ...yamlBlock, ...settings, ...credential, name, app: req.app, baseDir: path.dirname(place.file) };
  const connector = factory.create(config, {});
  let specs: ObjectSpec[];
  try {
    await connector.check();
    specs = await connector.describe();
  } finally {
    await connector.close();
  }

  const info: ConnectionInfo = {
    objects: specs.map((o) => ({ name: o.name, fields: o.fields.length, ...(o.changes ? { changes: o.changes } : {}), ...associationsOf(settings, o.name) })),
    checkedAt: new Date().toISOString(),
    settings,
  };
  withStore(place.state, (s) => s.saveConnection(name, req.app, credential, info));

  let configUpdated: string | null = null;
  if (place.source !== undefined && !yamlBlock) {
    const next = addConnection(place.source, name, yamlBlockFor(req.app, settings, path.dirname(place.file)));
    if (next !== place.source) {
      await writeConfigText(place.file, next);
      configUpdated = place.shown;
    }
  }
  return { name, app: req.app, secret: shownSecret(credential), objects: info.objects, state: place.state, configUpdated };
}

/** The associations `connect` found for an object (declared foreign keys), as "company_id → companies". */
function associationsOf(settings: Record<string, unknown>, object: string): { associations?: string[] } {
  const block = (settings.objects as Record<string, { associations?: Record<string, { field: string; object: string }> }> | undefined)?.[object];
  const found = Object.values(block?.associations ?? {}).map((a) => `${a.field} → ${a.object}`);
  return found.length > 0 ? { associations: found } : {};
}

/** Splits what the app needs into settings (may go in the YAML) and the credential (state only). */
async function buildSettings(req: ConnectRequest, yamlBlock: Record<string, unknown> | undefined):
  Promise<{ settings: Record<string, unknown>; credential: Record<string, unknown> }> {
  switch (req.app) {
    case 'hubspot': {
      const settings: Record<string, unknown> = {};
      const baseUrl = req.baseUrl ?? (typeof yamlBlock?.base_url === 'string' ? yamlBlock.base_url : undefined);
      if (baseUrl) settings.base_url = baseUrl;
      if (req.oauth) return { settings, credential: { oauth: req.oauth } };
      if (!req.token) throw configError('NO_TOKEN', 'no HubSpot token given', { hint: 'pass --token-env VAR (or --token T), or run in a terminal to be asked' });
      return { settings, credential: { token: req.token } };
    }
    case 'sqlite':
    case 'csv': {
      if (!req.path && !yamlBlock) {
        throw configError('NO_PATH', `connect ${req.app} needs --path ${req.app === 'sqlite' ? 'FILE.db' : 'FOLDER'}`,
          { hint: req.app === 'sqlite' ? 'e.g. datasync connect sqlite --name crm --path ./crm.db --object contacts=people' : 'e.g. datasync connect csv --name export --path ./export' });
      }
      if (!req.path) return { settings: {}, credential: {} };
      const abs = path.resolve(req.path);
      const settings = await discoverObjects(req.app, abs, req.objects ?? [], req.installTriggers === true);
      return { settings, credential: {} };
    }
    case 'postgres': {
      const url = req.url ?? (typeof yamlBlock?.url === 'string' ? yamlBlock.url : undefined);
      if (!url) {
        throw configError('NO_URL', 'connect postgres needs the database URL', {
          hint: 'e.g. datasync connect postgres --name db --url-env DATABASE_URL (a variable holding postgres://USER:PASSWORD@HOST:PORT/DATABASE)',
        });
      }
      const { discoverPostgres } = await import('./connect/postgres.js');
      const objects = await discoverPostgres(url, req.objects ?? [], req.installTriggers === true);
      // With --url-env the YAML names the variable; the stored URL serves `connect`'s own check.
      return { settings: { ...(req.urlEnv ? { url: `\${${req.urlEnv}}` } : {}), objects }, credential: { url } };
    }
    default:
      return { settings: {}, credential: req.token ? { token: req.token } : {} };
  }
}

/** The YAML block of a connection: its settings with paths relative to the YAML file, never a secret. */
export function yamlBlockFor(app: string, settings: Record<string, unknown>, configDir: string): ConnectionYaml {
  const block: ConnectionYaml = { app };
  for (const [k, v] of Object.entries(settings)) {
    if ((k === 'path' || k === 'dir') && typeof v === 'string') {
      const rel = path.relative(configDir, v) || '.';
      block[k] = rel.startsWith('..') || path.isAbsolute(rel) ? rel : `./${rel}`;
    } else {
      block[k] = v;
    }
  }
  return block;
}

export function listConnections(place: ConfigPlace): ConnectionRow[] {
  if (!existsSync(place.state)) return [];
  const declared = place.source === undefined ? new Map() : declaredConnections(place.source);
  return withStore(place.state, (s) => s.listConnections().map((c) => {
    const info = s.getConnection(c.name)?.info as Partial<ConnectionInfo> | null;
    return {
      name: c.name, app: c.app, secret: shownSecret(c.credential), created: c.created_at,
      objects: info?.objects ?? [], inConfig: declared.has(c.name),
    };
  }), true);
}

export function removeConnection(place: ConfigPlace, name: string): { name: string; inConfig: boolean } {
  const users = place.source === undefined ? [] : declaredSyncs(place.source).filter((s) => s.between.includes(name));
  if (users.length > 0) {
    throw configError('CONNECTION_IN_USE', `connection "${name}" is used by sync${users.length === 1 ? '' : 's'} ${users.map((u) => `"${u.name}"`).join(', ')} in ${place.shown}`, {
      hint: 'remove those syncs from the YAML (or point them at another connection) first',
    });
  }
  const removed = existsSync(place.state) && withStore(place.state, (s) => s.removeConnection(name));
  if (!removed) {
    const known = existsSync(place.state) ? withStore(place.state, (s) => s.listConnections().map((c) => c.name), true) : [];
    throw configError('UNKNOWN_CONNECTION', `no stored connection named "${name}"`, { hint: `stored connections: ${known.join(', ') || 'none'} (datasync connect --list)` });
  }
  const inConfig = place.source !== undefined && declaredConnections(place.source).has(name);
  return { name, inConfig };
}

function withStore<T>(state: string, fn: (s: StateStore) => T, readonly = false): T {
  const db = openState(state, { readonly });
  try {
    return fn(new StateStore(db));
  } finally {
    db.close();
  }
}
