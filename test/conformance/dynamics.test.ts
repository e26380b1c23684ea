/**
 * The dynamics connector against the bundled Dataverse emulator. Seeds and
 * edits go straight into the emulator's tables, as a person using Dynamics
 * would; values are stored the Web API's way (integers, booleans, dates).
 */
import { createDynamicsConnector } from '../../connectors/dynamics/index.js';
import { toDataverse } from '../../connectors/dynamics/values.js';
import { startDynamicsEmulator } from '../../fixtures/dynamics-emulator/server.js';
import type { Fields, FieldType } from '../../src/connector.js';
import type { ConformanceObject, MakeHarness } from './harness.js';
import { runConformanceSuite } from './suite.js';

const PAGE = 5;
const TYPES: Record<string, FieldType> = {
  emailaddress1: 'text', firstname: 'text', numberofchildren: 'number', birthdate: 'date', lastusedincampaign: 'datetime', donotemail: 'boolean', name: 'text',
};
const SETS: Record<ConformanceObject, string> = { contacts: 'contacts', companies: 'accounts' };
const asDataverse = (fields: Fields) => Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, toDataverse(v, TYPES[k])]));

const makeDynamicsApp: MakeHarness = async () => {
  const emu = await startDynamicsEmulator({ port: 0 });
  const connector = createDynamicsConnector(
    { name: 'dynamics', app: 'dynamics', baseDir: '.', url: emu.url, tenant: emu.tenant, client_id: emu.clientId, client_secret: emu.clientSecret, token_url: emu.tokenUrl },
    {},
    { pageSize: PAGE, retry: { baseDelayMs: 5, maxDelayMs: 50 } },
  );
  return {
    connector,
    fields: {
      email: 'emailaddress1',
      typed: { text: 'firstname', number: 'numberofchildren', date: 'birthdate', datetime: 'lastusedincampaign', boolean: 'donotemail' },
      companyName: 'name',
    },
    companyAssociation: 'company',
    pageSize: PAGE,
    async seed(object, records) {
      return records.map((r) => {
        const company = r.associations?.company?.[0];
        return emu.store.create(SETS[object], { ...asDataverse(r.fields), ...(company ? { 'parentcustomerid_account@odata.bind': `/accounts(${company})` } : {}) });
      });
    },
    async edit(object, id, fields) {
      emu.store.update(SETS[object], id, asDataverse(fields));
    },
    async remove(object, id) {
      emu.store.remove(SETS[object], id);
    },
    dispose: () => emu.close(),
  };
};

runConformanceSuite('dynamics (emulator)', makeDynamicsApp);
