/** The configure wizard driven with scripted answers (no terminal, no files). */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { upsertSync } from '../../src/config/edit.js';
import { draftFromSync, toSyncYaml } from '../../src/configure/draft.js';
import { resolveDraft } from '../../src/configure/mappings.js';
import { runWizard } from '../../src/configure/wizard.js';
import { DEFAULT, ScriptedPrompter, type Answer } from './scripted.js';
import { context } from './specs.js';

const FILE = `version: 1
connections:
  hubspot: { app: hubspot, token: x }
  crm: { app: sqlite, path: ./crm.db, objects: { contacts: { table: people } } }
  other: { app: csv, objects: { contacts: { file: c.csv } } }
`;

/** The first steps of a new contacts sync between hubspot and crm. */
const opening: Array<[RegExp, Answer]> = [
  [/^First app/, 'hubspot'],
  [/^Second app/, 'crm'],
  [/^Object to sync/, 'contacts'],
  [/^Name of this sync/, DEFAULT],
  [/^Which way/, 'two-way'],
  [/^Default app/, 'hubspot'],
];
/** From the rules to the end, with no filter and saving. */
const closing = (action = 'save'): Array<[RegExp, Answer]> => [
  [/^Only sync contacts that have an email/, true],
  [/^Limit which hubspot records/, false],
  [/^Limit which crm records/, false],
  [/^Keep associations/, true],
  [/^Save this sync/, action],
];

describe('configure wizard: a new sync', () => {
  it('asks in HubSpot\'s order and builds a sync that the config loader and the mapping rules accept', async () => {
    const p = new ScriptedPrompter([
      ...opening,
      [/^Default mappings:/, 'all'],
      [/^Add a custom mapping/, true],
      [/^Field of hubspot/, 'numemployees'],
      [/^Field of crm/, 'size'],
      [/^Add a custom mapping/, true],
      [/^Field of hubspot/, 'hs_lead_status'],
      [/^Field of crm/, 'status'],
      [/^Pair the option values/, 'pair'],
      [/"CONNECTED" becomes which/, 'CLOSED'],
      [/^Add a custom mapping/, false],
      [/^Only sync contacts that have an email/, true],
      [/^Limit which hubspot records/, false],
      [/^Limit which crm records/, true],
      [/^Field of crm to filter on/, 'country'],
      [/^country/, 'eq'],
      [/^Value/, 'SE'],
      [/^Add another filter condition on crm/, false],
      [/^Keep associations/, true],
      [/^Save this sync/, 'save-and-sync'],
    ]);
    const r = await runWizard(p, context());
    expect(p.remaining).toBe(0);
    expect(p.asked.map((a) => a.message.split(/[:?(]/)[0]!.trim()).slice(0, 7)).toEqual([
      'First app', 'Second app', 'Object to sync', 'Name of this sync', 'Which way does data sync', 'Default app', 'Default mappings',
    ]);
    expect(r.action).toBe('save-and-sync');
    const yaml = toSyncYaml(r.draft);
    expect(yaml).toEqual({
      name: 'contacts', object: 'contacts', between: ['hubspot', 'crm'], direction: 'two-way', default_app: 'hubspot',
      mappings: {
        defaults: true,
        fields: [{ hubspot: 'numemployees', crm: 'size' }, { hubspot: 'hs_lead_status', crm: 'status', values: { CONNECTED: 'CLOSED' } }],
      },
      rules: { only_with_email: true },
      filters: { crm: [{ field: 'country', op: 'eq', value: 'SE' }] },
      associations: true,
    });
    const resolved = resolveDraft(r.draft, r.specs);
    expect(resolved.problems).toEqual([]);
    expect(resolved.mappings.find((m) => m.a.name === 'hs_lead_status')?.flow).toBe('both');
    // The written file loads as `run` loads it.
    const config = parseConfig(upsertSync(FILE, yaml), '/tmp/sync.yaml', {});
    expect(config.syncs[0]?.filters.crm?.[0]?.value).toBe('SE');
    // The review screen showed the YAML and the mappings table.
    expect(p.said.join('\n')).toMatch(/hs_lead_status[\s\S]*Field mappings \(5\)/);
    expect(p.said.join('\n')).toMatch(/How changes are found:\n  hubspot\.contacts: .+\n  crm\.contacts: .+/);
  });

  it('offers only compatible, unmapped fields, and never a field already mapped', async () => {
    const p = new ScriptedPrompter([
      ...opening,
      [/^Default mappings:/, 'all'],
      [/^Add a custom mapping/, true],
      [/^Field of hubspot/, 'numemployees'],
      [/^Field of crm/, 'size'],
      [/^Add a custom mapping/, true],
      [/^Field of hubspot/, 'birthday'],
      [/^Field of crm/, 'created'],
      [/^Add a custom mapping/, false],
      ...closing(),
    ]);
    await runWizard(p, context());
    const names = (i: number, pattern: RegExp) => p.asked.filter((a) => pattern.test(a.message))[i]!.choices.map((c) => c.name.split(/[ :]/)[0]);

    // Side a: email/firstname/lastname are mapped by default, multi fields cannot be custom-mapped.
    expect(names(0, /^Field of hubspot/)).toEqual(['jobtitle', 'hs_lead_status', 'numemployees', 'hubspotscore', 'birthday']);
    // A number maps with a number two-way, or into text one-way; never a select, datetime or boolean.
    expect(names(0, /^Field of crm/)).toEqual(['title', 'size', 'country', '(none']);
    // Once mapped, numemployees and size are offered no more; a date goes with a datetime or into text.
    expect(names(1, /^Field of hubspot/)).not.toContain('numemployees');
    expect(names(1, /^Field of crm/)).toEqual(['title', 'created', 'country', '(none']);
    const created = p.asked.filter((a) => /^Field of crm/.test(a.message))[1]!.choices.find((c) => c.name.startsWith('title'));
    expect(created?.name).toMatch(/hubspot → crm/);
  });

  it('a read-only score is offered only as a source into text', async () => {
    const p = new ScriptedPrompter([
      ...opening,
      [/^Default mappings:/, 'all'],
      [/^Add a custom mapping/, true],
      [/^Field of hubspot/, 'hubspotscore'],
      [/^Field of crm/, 'title'],
      [/^Add a custom mapping/, false],
      ...closing(),
    ]);
    const r = await runWizard(p, context());
    expect(p.question(/^Field of crm/).choices.map((c) => c.name.split(' ')[0])).toEqual(['title', 'country', '(none:']);
    expect(resolveDraft(r.draft, r.specs).mappings.find((m) => m.a.name === 'hubspotscore')?.flow).toBe('a-to-b');
  });

  it('select fields whose options differ can be skipped instead of paired', async () => {
    const p = new ScriptedPrompter([
      ...opening,
      [/^Default mappings:/, 'all'],
      [/^Add a custom mapping/, true],
      [/^Field of hubspot/, 'hs_lead_status'],
      [/^Field of crm/, 'status'],
      [/^Pair the option values/, 'skip'],
      [/^Add a custom mapping/, false],
      ...closing(),
    ]);
    const r = await runWizard(p, context());
    expect(r.draft.fields).toEqual([]);
    expect(p.said.join('\n')).toMatch(/hubspot has CONNECTED; crm has CLOSED/);
  });

  it('default mappings can be turned off one by one; the kept ones stay as custom mappings', async () => {
    const p = new ScriptedPrompter([
      ...opening,
      [/^Default mappings:/, 'some'],
      [/^Default mappings to keep/, ['hubspot.email ↔ crm.email', 'hubspot.firstname ↔ crm.first_name']],
      [/^Add a custom mapping/, false],
      ...closing(),
    ]);
    const r = await runWizard(p, context());
    expect(r.draft.defaults).toBe(false);
    expect(r.draft.fields).toEqual([{ a: 'email', b: 'email' }, { a: 'firstname', b: 'first_name' }]);
    expect(resolveDraft(r.draft, r.specs).mappings.map((m) => m.b.name)).toEqual(['email', 'first_name']);
    // lastname is free again for a custom mapping.
    expect(p.question(/^Add a custom mapping/)).toBeDefined();
  });

  it('refuses clearly when fewer than two connections exist', async () => {
    const p = new ScriptedPrompter([]);
    await expect(runWizard(p, context({ connections: [{ name: 'hubspot', app: 'hubspot', from: 'stored' }] })))
      .rejects.toThrow(/needs two connections/);
  });

  it('cancel writes nothing (the caller sees the action)', async () => {
    const p = new ScriptedPrompter([...opening, [/^Default mappings:/, 'all'], [/^Add a custom mapping/, false], ...closing('cancel')]);
    expect((await runWizard(p, context())).action).toBe('cancel');
  });
});

describe('configure wizard: editing an existing sync', () => {
  const existingYaml = `${FILE}syncs:
  - name: people
    object: contacts
    between: [hubspot, crm]
    direction: crm -> hubspot
    default_app: crm
    mappings:
      fields:
        - { hubspot: jobtitle, crm: title }
    rules: { only_with_email: false }
    filters:
      crm:
        - { field: country, op: in, value: [SE, NO] }
    associations: false
`;
  const sync = parseConfig(existingYaml, '/tmp/sync.yaml', {}).syncs[0]!;

  it('starts from the current values: every question defaults to them', async () => {
    const p = new ScriptedPrompter([
      [/^First app/, DEFAULT], [/^Second app/, DEFAULT], [/^Object to sync/, DEFAULT],
      [/^Which way/, DEFAULT], [/^Default app/, DEFAULT], [/^Default mappings:/, DEFAULT],
      [/^Custom mappings to keep/, DEFAULT], [/^Add a custom mapping/, false],
      [/^Only sync contacts that have an email/, DEFAULT],
      [/^Limit which hubspot records/, false],
      [/^Filter conditions of crm to keep/, DEFAULT], [/^Add another filter condition on crm/, false],
      [/^Keep associations/, DEFAULT],
      [/^Save this sync/, 'save'],
    ]);
    const r = await runWizard(p, context({ existing: { draft: draftFromSync(sync), raw: {} }, syncNames: ['people'], name: 'people' }));
    expect(p.remaining).toBe(0);
    expect(p.question(/^Which way/).default).toBe('b-to-a');
    expect(p.question(/^Default app/).default).toBe('crm');
    expect(r.draft).toMatchObject({
      name: 'people', direction: 'b-to-a', defaultApp: 'crm', onlyWithEmail: false, associations: false,
      fields: [{ a: 'jobtitle', b: 'title' }], filters: { crm: [{ field: 'country', op: 'in', value: ['SE', 'NO'] }] },
    });
    // Saved over the old one, the file keeps loading.
    const config = parseConfig(upsertSync(existingYaml, toSyncYaml(r.draft)), '/tmp/sync.yaml', {});
    expect(config.syncs).toHaveLength(1);
    expect(config.syncs[0]?.direction).toBe('b-to-a');
  });

  it('its custom mappings and filters can be dropped one by one', async () => {
    const base = draftFromSync(sync);
    const p = new ScriptedPrompter([
      [/^First app/, 'hubspot'], [/^Second app/, 'crm'], [/^Object to sync/, 'contacts'],
      [/^Which way/, 'two-way'], [/^Default app/, 'hubspot'], [/^Default mappings:/, 'all'],
      [/^Custom mappings to keep/, []], [/^Add a custom mapping/, false],
      ...closing().slice(0, 2), [/^Filter conditions of crm to keep/, []], [/^Limit which crm records/, false],
      [/^Keep associations/, true], [/^Save this sync/, 'save'],
    ]);
    const r = await runWizard(p, context({ existing: { draft: base, raw: {} }, name: 'people' }));
    expect(r.draft.fields).toEqual([]);
    expect(r.draft.filters).toEqual({});
    expect(r.draft.direction).toBe('two-way');
  });
});
