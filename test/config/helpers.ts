import { DatasyncError } from '../../src/errors.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';

export const FILE = '/project/sync.yaml';

/** Parses YAML text as /project/sync.yaml, named `sync.yaml` in messages. */
export function parse(text: string, env: NodeJS.ProcessEnv = {}): Config {
  return parseConfig(text, FILE, env, { displayName: 'sync.yaml' });
}

/** The problems a text gives (fails the test when it parses). */
export function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parse(text, env);
  } catch (err) {
    if (err instanceof DatasyncError && err.code === 'CONFIG_INVALID') return err.problems ?? [];
    throw err;
  }
  throw new Error('expected configuration problems, but the text parsed');
}

/** A valid file around one sync, given as YAML lines indented for an item of `syncs:`. */
export function withSync(syncLines: string): string {
  return `version: 1
connections:
  hubspot: { app: hubspot }
  crm: { app: sqlite, path: ./crm.db }
syncs:
${syncLines}`;
}
