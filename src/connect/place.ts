/**
 * Where `connect` and `configure` read and write: the YAML file named by
 * `-c`/`DATASYNC_CONFIG`/`sync.yaml`, which may not exist yet, and the state
 * it names. Without a YAML file the state is `.datasync/state.db` next to
 * where the file would be (the cwd by default) — the same place the file's
 * default `state:` points at once `configure` writes it.
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { declaredState } from '../config/connections.js';
import { DEFAULT_CONFIG_FILE } from '../config/load.js';
import { configError } from '../errors.js';

export interface ConfigPlace {
  /** Absolute path of the YAML file (it may not exist). */
  file: string;
  /** How messages name it. */
  shown: string;
  /** Its text, when it exists. */
  source?: string;
  /** Absolute path of the state file. */
  state: string;
}

export async function locateConfig(opts: { file?: string; cwd: string; env: NodeJS.ProcessEnv }): Promise<ConfigPlace> {
  const file = path.resolve(opts.cwd, opts.file || opts.env.DATASYNC_CONFIG || DEFAULT_CONFIG_FILE);
  const rel = path.relative(opts.cwd, file);
  const shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
  let source: string | undefined;
  try {
    source = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      throw configError('CONFIG_UNREADABLE', `cannot read ${shown}: ${(err as Error).message}`, { hint: 'name another file with -c/--config PATH' });
    }
  }
  const stateRel = source === undefined ? '.datasync/state.db' : declaredState(source);
  return { file, shown, source, state: path.resolve(path.dirname(file), stateRel) };
}

/** Replaces the YAML file through a temp file and a rename, keeping its permission bits. */
export async function writeConfigText(file: string, text: string): Promise<void> {
  const mode = await stat(file).then((s) => s.mode & 0o777, () => 0o644);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, file);
}
