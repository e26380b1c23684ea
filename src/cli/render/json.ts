/**
 * The stable `--json` shape of `run` (documented in README "JSON output").
 * Version it: fields are only ever added.
 */
import type { RunResult } from '../../engine/run.js';

export function toJson(result: RunResult, dryRun: boolean) {
  return {
    version: 1,
    runId: result.runId,
    dryRun,
    exitCode: result.interrupted ? 130 : result.exitCode,
    syncs: result.summaries.map((s) => ({
      name: s.sync,
      object: s.object,
      outcome: s.outcome,
      linked: s.linked,
      conflicts: s.conflicts,
      sides: [s.sides.a, s.sides.b],
      mappings: s.mappings ?? [],
      ...(s.error ? { error: s.error } : {}),
      ...(dryRun ? { plan: s.plan ?? [] } : {}),
    })),
  };
}
