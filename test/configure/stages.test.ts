/** The configure wizard's stage mapping for a deal sync (issue 19), driven with scripted answers. */
import { describe, expect, it } from 'vitest';
import type { FieldSpec, ObjectSpec } from '../../src/connector.js';
import { toSyncYaml } from '../../src/configure/draft.js';
import { resolveDraft } from '../../src/configure/mappings.js';
import { runWizard } from '../../src/configure/wizard.js';
import { DEFAULT, ScriptedPrompter, type Answer } from './scripted.js';
import { context } from './specs.js';

const f = (name: string, type: FieldSpec['type'], extra: Partial<FieldSpec> = {}): FieldSpec => ({ name, label: name, type, readOnly: false, ...extra });
const caps = { create: true, update: true, changeCursor: true };

/** As the HubSpot connector describes deals: options from the Pipelines API. */
const HUB_DEALS: ObjectSpec = {
  name: 'deals', label: 'Deals', capabilities: caps, associations: [],
  fields: [
    f('dealname', 'text', { role: 'dealname' }),
    f('pipeline', 'select', { role: 'pipeline', options: [{ value: 'default', label: 'Sales Pipeline' }, { value: '7001', label: 'Renewals' }] }),
    f('dealstage', 'radio', { role: 'dealstage', options: [
      { value: 'qualifiedtobuy', label: 'Qualified To Buy' }, { value: 'closedlost', label: 'Closed Lost' }, { value: '9002', label: 'Renewed' },
    ] }),
  ],
};
/** A CRM keeping names: one stage is called differently. */
const CRM_DEALS: ObjectSpec = {
  name: 'deals', label: 'deals', capabilities: caps, associations: [],
  fields: [
    f('dealname', 'text', { role: 'dealname' }),
    f('pipeline', 'select', { role: 'pipeline', options: [{ value: 'Sales Pipeline' }, { value: 'Renewals' }] }),
    f('stage', 'radio', { role: 'dealstage', options: [{ value: 'Qualified To Buy' }, { value: 'Renewed' }, { value: 'Lost' }] }),
  ],
};

const ctx = context({ describe: async (name) => (name === 'hubspot' ? [HUB_DEALS] : name === 'crm' ? [CRM_DEALS] : []) });
const opening: Array<[RegExp, Answer]> = [
  [/^First app/, 'hubspot'], [/^Second app/, 'crm'], [/^Object to sync/, 'deals'], [/^Name of this sync/, DEFAULT],
  [/^Which way/, 'two-way'], [/^Default app/, 'hubspot'], [/^Default mappings:/, 'all'],
];

describe('configure wizard: deal stages', () => {
  it('shows how pipelines and stages pair by label and pairs the stage left over into values:', async () => {
    const p = new ScriptedPrompter([
      ...opening,
      [/^Pair the option values/, 'pair'],
      [/"closedlost" becomes which/, 'Lost'],
      [/^Limit which hubspot records/, false],
      [/^Limit which crm records/, false],
      [/^Save this sync/, 'save'],
    ]);
    const r = await runWizard(p, ctx);
    expect(p.remaining).toBe(0);
    const said = p.said.join('\n');
    expect(said).toContain('The pipelines pair by label');
    expect(said).toContain('hubspot "Renewals" (7001) ↔ crm "Renewals"');
    expect(said).toContain('hubspot "Renewed" (9002) ↔ crm "Renewed"');
    expect(said).toMatch(/Without a counterpart: hubspot "Closed Lost" \(closedlost\); crm "Lost"/);
    expect(toSyncYaml(r.draft).mappings).toEqual({ defaults: true, fields: [{ hubspot: 'dealstage', crm: 'stage', values: { closedlost: 'Lost' } }] });
    const resolved = resolveDraft(r.draft, r.specs);
    expect(resolved.problems).toEqual([]);
    const stage = resolved.mappings.find((m) => m.a.name === 'dealstage')!;
    expect(stage.flow).toBe('both');
    expect(stage.valuesAtoB).toEqual({ qualifiedtobuy: 'Qualified To Buy', '9002': 'Renewed', closedlost: 'Lost' });
    expect(resolved.mappings.find((m) => m.a.name === 'pipeline')!.flow).toBe('both');
  });

  it('skipping the pairing leaves the stages as the type rules have them', async () => {
    const p = new ScriptedPrompter([
      ...opening,
      [/^Pair the option values/, 'skip'],
      // dealstage and stage stay unmapped, so the custom step offers them.
      [/^Add a custom mapping/, false],
      [/^Limit which hubspot records/, false],
      [/^Limit which crm records/, false],
      [/^Save this sync/, 'save'],
    ]);
    const r = await runWizard(p, ctx);
    expect(p.remaining).toBe(0);
    expect(toSyncYaml(r.draft).mappings).toEqual({ defaults: true });
    // The CRM's "Lost" has no HubSpot stage and HubSpot's "Closed Lost" no CRM one: the pair is left out.
    expect(resolveDraft(r.draft, r.specs).mappings.some((m) => m.a.name === 'dealstage')).toBe(false);
  });
});
