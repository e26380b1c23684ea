/** Two apps' contacts as their connectors would describe them, for the wizard tests. */
import type { FieldSpec, ObjectSpec } from '../../src/connector.js';
import type { WizardContext } from '../../src/configure/wizard.js';

const f = (name: string, type: FieldSpec['type'], extra: Partial<FieldSpec> = {}): FieldSpec =>
  ({ name, label: name, type, readOnly: false, ...extra });
const opts = (...values: string[]) => values.map((value) => ({ value }));
const caps = { create: true, update: true, changeCursor: true };

export const HUB_CONTACTS: ObjectSpec = {
  name: 'contacts', label: 'Contacts', capabilities: caps,
  associations: [{ name: 'company', object: 'companies', single: true }],
  fields: [
    f('email', 'text', { role: 'email' }), f('firstname', 'text', { role: 'firstname' }), f('lastname', 'text', { role: 'lastname' }),
    f('jobtitle', 'text'), f('hs_lead_status', 'select', { options: opts('NEW', 'OPEN', 'CONNECTED') }),
    f('numemployees', 'number'), f('hubspotscore', 'score', { readOnly: true }), f('birthday', 'date'),
    f('hs_additional_emails', 'multi'),
  ],
};

export const CRM_CONTACTS: ObjectSpec = {
  name: 'contacts', label: 'contacts', capabilities: caps, associations: [],
  fields: [
    f('email', 'text', { role: 'email' }), f('first_name', 'text', { role: 'firstname' }), f('last_name', 'text', { role: 'lastname' }),
    f('title', 'text'), f('status', 'select', { options: opts('NEW', 'OPEN', 'CLOSED') }),
    f('size', 'number'), f('created', 'datetime'), f('vip', 'boolean'), f('country', 'text'),
  ],
};

export const HUB_COMPANIES: ObjectSpec = {
  name: 'companies', label: 'Companies', capabilities: caps, associations: [],
  fields: [f('name', 'text', { role: 'name' }), f('domain', 'text', { role: 'domain' })],
};

export function context(extra: Partial<WizardContext> = {}): WizardContext {
  return {
    connections: [
      { name: 'hubspot', app: 'hubspot', from: 'stored' },
      { name: 'crm', app: 'sqlite', from: 'yaml' },
      { name: 'other', app: 'csv', from: 'yaml' },
    ],
    describe: async (name) => (name === 'hubspot' ? [HUB_CONTACTS, HUB_COMPANIES] : name === 'crm' ? [CRM_CONTACTS] : []),
    syncNames: [],
    file: 'sync.yaml',
    ...extra,
  };
}
