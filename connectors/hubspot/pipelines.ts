/**
 * Deal pipelines and stages (issue 19). A deal's `dealstage` belongs to its
 * `pipeline`; a portal has several pipelines, custom stages have numeric ids,
 * and HubSpot refuses a stage that is not in the deal's pipeline. describe()
 * gives both fields their options from the Pipelines API
 * (`GET /crm/v3/pipelines/deals`: pipelines with their stages' id, label,
 * displayOrder and metadata), so a mapping pairs them with the other app's
 * options by label (src/mapping/options.ts) or by a `values:` map. Values stay
 * HubSpot's ids; a write sends pipeline and stage in the same request, and a
 * stage HubSpot refuses for the pipeline is that record's failure, with
 * HubSpot's reason.
 */
import type { FieldOption, FieldSpec } from '../../src/connector.js';
import { DatasyncError } from '../../src/errors.js';
import type { HttpClient } from '../../src/http/client.js';
import { expectAnswer, hasResults } from './answers.js';

export const PIPELINES_PATH = '/crm/v3/pipelines';

export interface PipelineStage { id: string; label?: string; displayOrder?: number; archived?: boolean; metadata?: { probability?: string; isClosed?: string } }
export interface Pipeline { id: string; label?: string; displayOrder?: number; archived?: boolean; stages?: PipelineStage[] }

/** The object's pipelines in display order, or undefined when the credential may not read them. */
export async function readPipelines(http: HttpClient, object: string): Promise<Pipeline[] | undefined> {
  try {
    const list = await expectAnswer(http, 'GET', `${PIPELINES_PATH}/${object}`, { class: 'read' }, hasResults, (b) => b.results as Pipeline[], () => []);
    if (list.length === 0) return undefined;
    return list.filter((p) => p && p.id !== undefined && p.archived !== true)
      .sort((a, b) => (a.displayOrder ?? 0) - (b.displayOrder ?? 0));
  } catch (err) {
    if (err instanceof DatasyncError && err.code === 'MISSING_SCOPES') return undefined;
    throw err;
  }
}

/** Each pipelined object's pipeline and stage properties. */
export const PIPELINED: Readonly<Record<string, { pipeline: string; stage: string }>> = {
  deals: { pipeline: 'pipeline', stage: 'dealstage' },
  tickets: { pipeline: 'hs_pipeline', stage: 'hs_pipeline_stage' },
};

/** The pipeline and stage fields with the pipelines' and their stages' ids and labels as options. */
export function withPipelineOptions(fields: FieldSpec[], pipelines: Pipeline[], names = PIPELINED['deals']!): FieldSpec[] {
  const pipelineOptions: FieldOption[] = pipelines.map((p) => ({ value: String(p.id), label: p.label ?? String(p.id) }));
  const stageOptions: FieldOption[] = pipelines.flatMap((p) => [...(p.stages ?? [])]
    .filter((s) => s && s.id !== undefined && s.archived !== true)
    .sort((a, b) => (a.displayOrder ?? 0) - (b.displayOrder ?? 0))
    .map((s) => ({ value: String(s.id), label: s.label ?? String(s.id) })));
  return fields.map((f) => {
    if (f.name === names.pipeline && pipelineOptions.length > 0) return { ...f, options: pipelineOptions };
    if (f.name === names.stage && stageOptions.length > 0) return { ...f, options: stageOptions };
    return f;
  });
}
