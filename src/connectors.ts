/** The connectors datasync knows, each loaded only when a connection uses it. */
import type { ConnectorFactory } from './connector.js';
import { configError } from './errors.js';

const LOADERS: Record<string, () => Promise<{ factory: ConnectorFactory }>> = {
  sqlite: () => import('../connectors/sqlite/index.js'),
  csv: () => import('../connectors/csv/index.js'),
  hubspot: () => import('../connectors/hubspot/index.js'),
  dynamics: () => import('../connectors/dynamics/index.js'),
  postgres: () => import('../connectors/postgres/index.js'),
};

export const APPS = Object.keys(LOADERS);

/** Factories registered at run time, before the built-in ones (tests inject in-memory apps). */
const REGISTERED = new Map<string, ConnectorFactory>();

export function registerConnector(factory: ConnectorFactory): void {
  REGISTERED.set(factory.app, factory);
}

export async function loadConnector(app: string): Promise<ConnectorFactory> {
  const registered = REGISTERED.get(app);
  if (registered) return registered;
  const load = LOADERS[app];
  if (!load) {
    throw configError('UNKNOWN_APP', `unknown app "${app}"`, { hint: `use one of: ${APPS.join(', ')}` });
  }
  return (await load()).factory;
}
