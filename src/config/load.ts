/**
 * Reading `sync.yaml`: YAML syntax → `${NAME}` substitution → schema →
 * cross-field rules → either a Config or one configuration error listing every
 * problem as `FILE:LINE:COLUMN: …`. Nothing here prints.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { configError } from '../errors.js';
import { buildConfig } from './rules.js';
import { ConfigSource } from './source.js';
import type { Config } from './types.js';
import { append } from '../lists.js';

export const DEFAULT_CONFIG_FILE = 'sync.yaml';

const INVALID_HINT = 'Fix each problem at the line and column shown. '
  + 'schema/sync.schema.json describes the file for editor completion (yaml-language-server).';

/**
 * Parses the text of a config file. `file` is where it lives (made absolute
 * against the process's folder); `displayName` is how messages name it
 * (default: `file` as given).
 */
export function parseConfig(source: string, file: string, env: NodeJS.ProcessEnv, opts: { displayName?: string } = {}): Config {
  const shown = opts.displayName ?? file;
  const src = new ConfigSource(source, shown);
  const syntax = src.syntaxProblems(source);
  // After a syntax error the document's shape cannot be trusted: report those alone.
  if (syntax.length > 0) throw invalid(shown, syntax);

  const problems = src.substituteEnv(env);
  const raw = src.toJS();
  if (raw === null || raw === undefined) {
    throw invalid(shown, [...problems, `${shown}:1:1: the file is empty: expected at least 'version: 1'`]);
  }
  const result = buildConfig(raw, src, path.resolve(file));
  append(problems, result.problems.map((p) => src.redact(p)));
  if (problems.length > 0 || !result.config) throw invalid(shown, problems);
  return result.config;
}

/** Finds and parses the config file: `opts.file`, else `$DATASYNC_CONFIG`, else `sync.yaml` in `cwd`. */
export async function loadConfig(opts: { file?: string; cwd: string; env: NodeJS.ProcessEnv }): Promise<Config> {
  const named = opts.file ? '-c/--config' : opts.env.DATASYNC_CONFIG ? 'DATASYNC_CONFIG' : undefined;
  const file = path.resolve(opts.cwd, opts.file || opts.env.DATASYNC_CONFIG || DEFAULT_CONFIG_FILE);
  const shown = displayName(file, opts.cwd);
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (err) {
    throw readError(err, shown, named);
  }
  return parseConfig(source, file, opts.env, { displayName: shown });
}

/** Relative to `cwd` when the file is inside it, else absolute. */
function displayName(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function readError(err: unknown, shown: string, named: string | undefined) {
  const code = (err as NodeJS.ErrnoException).code;
  const by = named ? ` (named by ${named})` : '';
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return configError('CONFIG_NOT_FOUND', `no configuration file at ${shown}${by}`, {
      hint: `Create ${DEFAULT_CONFIG_FILE} in this folder (datasync configure writes one), `
        + 'or name another file with -c/--config PATH or the environment variable DATASYNC_CONFIG.',
    });
  }
  if (code === 'EISDIR') {
    return configError('CONFIG_NOT_FOUND', `${shown}${by} is a folder, not a configuration file`, {
      hint: 'Name the YAML file itself with -c/--config PATH or DATASYNC_CONFIG.',
    });
  }
  return configError('CONFIG_UNREADABLE', `cannot read ${shown}${by}: ${(err as Error).message}`, {
    hint: 'Check the file\'s permissions, or name another file with -c/--config PATH or DATASYNC_CONFIG.',
  });
}

function invalid(shown: string, problems: string[]) {
  const sorted = sortByPosition(problems, shown);
  const n = sorted.length;
  return configError('CONFIG_INVALID', `${n} problem${n === 1 ? '' : 's'} in ${shown}`, { problems: sorted, hint: INVALID_HINT });
}

/** In file order, so that a person can work down the list. */
function sortByPosition(problems: string[], shown: string): string[] {
  const pos = (p: string) => {
    const m = /^(\d+):(\d+):/.exec(p.startsWith(`${shown}:`) ? p.slice(shown.length + 1) : '');
    return m ? Number(m[1]) * 1e6 + Number(m[2]) : 0;
  };
  return [...new Set(problems)].sort((x, y) => pos(x) - pos(y));
}
