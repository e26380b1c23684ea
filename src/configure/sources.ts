/**
 * The connections `configure` can offer — those of the YAML and those stored
 * by `connect` — and a `describe` for each: the connector opened with the
 * stored credential under the YAML block (YAML values win, as in `run`),
 * checked, described, closed. Secrets never reach a message.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ConnectionConfig, ObjectSpec } from '../connector.js';
import type { Config } from '../config/types.js';
import type { ConnectionYaml } from '../config/connections.js';
import { loadConnector } from '../connectors.js';
import { scrubError, secretsOf, yamlBlockFor, type ConnectionInfo } from '../connect.js';
import { openState } from '../state/open.js';
import { StateStore } from '../state/store.js';
import type { ConnectionChoice } from './wizard.js';

interface Stored { name: string; app: string; credential: Record<string, unknown>; settings: Record<string, unknown> }

export interface Sources {
  choices: ConnectionChoice[];
  describe(name: string): Promise<ObjectSpec[]>;
  /** The YAML block to add for a connection only stored by `connect` (undefined when the YAML has it). */
  blockFor(name: string, configDir: string): ConnectionYaml | undefined;
}

function readStored(state: string): Stored[] {
  if (!existsSync(state)) return [];
  const db = openState(state, { readonly: true });
  try {
    const store = new StateStore(db);
    return store.listConnections().map((c) => {
      const info = store.getConnection(c.name)?.info as Partial<ConnectionInfo> | null;
      return { name: c.name, app: c.app, credential: c.credential, settings: info?.settings ?? {} };
    });
  } finally {
    db.close();
  }
}

export function gatherSources(config: Config | undefined, state: string, baseDir: string): Sources {
  const stored = new Map(readStored(state).map((s) => [s.name, s]));
  const yaml = config?.connections ?? {};
  const choices: ConnectionChoice[] = [
    ...Object.values(yaml).map((c): ConnectionChoice => ({ name: c.name, app: c.app, from: stored.has(c.name) ? 'both' : 'yaml' })),
    ...[...stored.values()].filter((s) => !yaml[s.name]).map((s): ConnectionChoice => ({ name: s.name, app: s.app, from: 'stored' })),
  ];
  const cache = new Map<string, Promise<ObjectSpec[]>>();

  const connectionConfig = (name: string): ConnectionConfig => {
    const s = stored.get(name);
    const y = yaml[name];
    if (y) return { ...s?.credential, ...y };
    if (!s) throw new Error(`unknown connection ${name}`);
    return { ...s.settings, ...s.credential, name, app: s.app, baseDir };
  };

  const describe = async (name: string): Promise<ObjectSpec[]> => {
    const config = connectionConfig(name);
    const connector = (await loadConnector(config.app)).create(config, {});
    try {
      await connector.check();
      return await connector.describe();
    } catch (err) {
      throw scrubError(err, secretsOf(stored.get(name)?.credential ?? {}));
    } finally {
      await connector.close();
    }
  };

  return {
    choices,
    describe: (name) => {
      let p = cache.get(name);
      if (!p) {
        p = describe(name);
        cache.set(name, p);
      }
      return p;
    },
    blockFor: (name, configDir) => {
      const s = stored.get(name);
      return yaml[name] || !s ? undefined : yamlBlockFor(s.app, s.settings, path.resolve(configDir));
    },
  };
}
