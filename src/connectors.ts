/** The connectors datasync knows, each loaded only when a connection uses it. */
import type { ConnectorFactory } from './connector.js';
import { configError } from './errors.js';

const LOADERS: Record<string, () => Promise<{ factory: ConnectorFactory }>> = {
  sqlite: () => import('../connectors/sqlite/index.js'),
  csv: () => import('../connectors/csv/index.js'),
  hubspot: () => import('../connectors/hubspot/index.js'),
};

export const APPS = Object.keys(LOADERS);

export async function loadConnector(app: string): Promise<ConnectorFactory> {
  const load = LOADERS[app];
  if (!load) {
    throw configError('UNKNOWN_APP', `unknown app "${app}"`, { hint: `use one of: ${APPS.join(', ')}` });
  }
  return (await load()).factory;
}
