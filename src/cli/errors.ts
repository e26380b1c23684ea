/** The one place that turns an error into a message and an exit code. */
import { DatasyncError, EXIT, exitCodeFor, hideUrlCredentials } from '../errors.js';
import { errorJson } from './render/json.js';

/**
 * A command that failed: the message on stderr, and with `--json` the error
 * as JSON on stdout too (a script reading stdout always gets JSON).
 */
export function commandFailed(err: unknown, json: boolean | undefined): number {
  const code = renderError(err);
  if (json) process.stdout.write(`${JSON.stringify(errorJson(err, code), null, 2)}\n`);
  return code;
}

export function renderError(err: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (err instanceof DatasyncError) {
    if (err.problems && err.problems.length > 0) {
      write(`datasync: ${err.message}:\n`);
      for (const p of err.problems) write(`  ${p}\n`);
    } else {
      write(`datasync: ${err.message}\n`);
    }
    if (err.hint) write(`  hint: ${err.hint}\n`);
    return exitCodeFor(err);
  }
  write(`datasync: unexpected error (a bug; please report it with this output):\n${hideUrlCredentials((err as Error)?.stack ?? String(err))}\n`);
  return EXIT.internal;
}
