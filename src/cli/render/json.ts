/**
 * The stable `--json` shape of `run` (documented in README "JSON output").
 * Version it: fields are only ever added.
 */
import type { RunResult } from '../../engine/run.js';
import { DatasyncError, EXIT, hideUrlCredentials } from '../../errors.js';

/** `--json` when the command fails before a result: the same `version`, an `error`, the exit code. */
export function errorJson(err: unknown, exitCode: number) {
  const e = err instanceof DatasyncError
    ? { code: err.code, kind: err.kind, message: err.message, ...(err.hint ? { hint: err.hint } : {}), ...(err.problems ? { problems: err.problems } : {}) }
    : { code: 'INTERNAL', kind: 'internal', message: hideUrlCredentials((err as Error)?.message ?? String(err)) };
  return { version: 1, exitCode, error: e };
}

export function toJson(result: RunResult, dryRun: boolean) {
  return {
    version: 1,
    runId: result.runId,
    dryRun,
    exitCode: result.interrupted ? EXIT.interrupted : result.exitCode,
    syncs: result.summaries.map((s) => ({
      name: s.sync,
      object: s.object,
      outcome: s.outcome,
      linked: s.linked,
      conflicts: s.conflicts,
      sides: [s.sides.a, s.sides.b],
      mappings: s.mappings ?? [],
      ...(s.error ? { error: s.error } : {}),
      ...(s.warnings ? { warnings: s.warnings } : {}),
      ...(dryRun ? { plan: s.plan ?? [] } : {}),
    })),
  };
}
