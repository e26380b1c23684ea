/** W6's data (bench/dynamics.ts): W4's records as a Dataverse seed the emulator accepts, contacts bound to their accounts. */
import { describe, expect, it } from 'vitest';
import { dynamicsSeed } from '../../bench/dynamics.js';
import { hubspotInput } from '../../bench/hubspot.js';
import { startDynamicsEmulator } from '../../fixtures/dynamics-emulator/server.js';

describe('W6 seed', () => {
  it('is the same for the same seed and loads into the emulator with every lookup bound', async () => {
    const input = hubspotInput(200, 40, 5);
    const seed = dynamicsSeed(input);
    expect(JSON.stringify(dynamicsSeed(hubspotInput(200, 40, 5)))).toBe(JSON.stringify(seed));
    const emu = await startDynamicsEmulator({ port: 0, seed });
    try {
      expect(emu.store.list('contacts')).toHaveLength(input.counts.hubspot.contacts);
      expect(emu.store.list('accounts')).toHaveLength(input.counts.hubspot.companies);
      const withCompany = input.seed.contacts!.filter((c) => c.associations).length;
      expect(emu.store.list('contacts').filter((r) => r.attrs.parentcustomerid).length).toBe(withCompany);
    } finally {
      await emu.close();
    }
  });
});
