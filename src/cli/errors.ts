/** The one place that turns an error into a message and an exit code. */
import { DatasyncError, EXIT, exitCodeFor } from '../errors.js';

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
  write(`datasync: unexpected error (a bug; please report it with this output):\n${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.internal;
}
