/**
 * The hubspot connector against the bundled emulator. Seeds and edits go
 * straight into the emulator's store, as a person using HubSpot would.
 * The emulator has no writable contact datetime property, so `datetime` is
 * left out of the typed fields.
 */
import { createHubSpotConnector } from '../../connectors/hubspot/index.js';
import { toHubSpot } from '../../connectors/hubspot/values.js';
import { startEmulator } from '../../fixtures/hubspot-emulator/server.js';
import type { Fields, FieldType } from '../../src/connector.js';
import type { ConformanceApp, ConformanceObject, MakeHarness } from './harness.js';
import { runConformanceSuite } from './suite.js';

const TOKEN = 'pat-na1-conformance-0000';
const PAGE = 5;
const TYPES: Record<string, FieldType> = { email: 'text', firstname: 'text', annual_income: 'number', date_of_birth: 'date', newsletter_opt_in: 'boolean', name: 'text' };

/** Canonical values the way HubSpot stores them: strings. */
const asHubSpot = (fields: Fields) => Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, toHubSpot(v, TYPES[k])]));

const makeHubSpotApp: MakeHarness = async () => {
  const emu = await startEmulator({ port: 0, token: TOKEN });
  const connector = createHubSpotConnector(
    { name: 'hubspot', app: 'hubspot', baseDir: '.', token: TOKEN, base_url: emu.url },
    {},
    // associationBatch: batches of a page, as the suite checks paging (the default gathers 1,000 records per association read).
    { tuning: { listPageSize: PAGE, associationBatch: PAGE }, retry: { baseDelayMs: 5, maxDelayMs: 50 } },
  );
  const app: ConformanceApp = {
    connector,
    fields: { email: 'email', typed: { text: 'firstname', number: 'annual_income', date: 'date_of_birth', boolean: 'newsletter_opt_in' }, companyName: 'name' },
    companyAssociation: 'company',
    pageSize: PAGE,
    async seed(object: ConformanceObject, records) {
      return records.map((r) => {
        const companies = r.associations?.company;
        return emu.store.create(object, asHubSpot(r.fields), companies ? { companies } : undefined).id;
      });
    },
    async edit(object, id, fields) {
      emu.store.update(object, id, asHubSpot(fields));
    },
    async remove(object, id) {
      emu.store.archive(object, id);
    },
    dispose: () => emu.close(),
  };
  return app;
};

runConformanceSuite('hubspot (emulator)', makeHubSpotApp);
