/**
 * Option sets pair by label (SPEC §5, issue 17): a Dynamics picklist's
 * integer values ('8') and a HubSpot dropdown's internal values ('PROSPECT')
 * never equal each other, so options with the same label pair up; a
 * `values:` map pairs those whose labels differ, and wins over a label.
 */
import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../../src/connector.js';
import { checkOptions, optionGaps } from '../../src/mapping/options.js';

const select = (name: string, options: Array<[string, string]>): FieldSpec =>
  ({ name, label: name, type: 'select', readOnly: false, options: options.map(([value, label]) => ({ value, label })) });

const dynamics = select('industrycode', [['1', 'Accounting'], ['2', 'Banking'], ['3', 'Software']]);
const hubspot = select('industry', [['ACCOUNTING', 'Accounting'], ['BANKING', 'banking '], ['COMPUTER_SOFTWARE', 'Computer Software']]);
const both = { ab: true, ba: true };
const names = { a: 'org1.industrycode', b: 'hubspot.industry' };

describe('select options pair by label', () => {
  it('pairs equal labels (trimmed, any case) and leaves only the differing ones as gaps', () => {
    expect(optionGaps(dynamics, hubspot)).toEqual({ a: ['3'], b: ['COMPUTER_SOFTWARE'] });
  });

  it('a values: map completes the pairs where labels differ, both ways', () => {
    const check = checkOptions(dynamics, hubspot, { '3': 'COMPUTER_SOFTWARE' }, both, names);
    expect(check).toEqual({
      ok: true,
      valuesAtoB: { '1': 'ACCOUNTING', '2': 'BANKING', '3': 'COMPUTER_SOFTWARE' },
      valuesBtoA: { ACCOUNTING: '1', BANKING: '2', COMPUTER_SOFTWARE: '3' },
    });
  });

  it('without the map the differing label is named as the gap', () => {
    expect(checkOptions(dynamics, hubspot, undefined, both, names)).toMatchObject({ ok: false, rule: expect.stringMatching(/"3".*"COMPUTER_SOFTWARE"/) });
  });

  it('an explicit values: entry wins over a label', () => {
    const check = checkOptions(dynamics, hubspot, { '1': 'BANKING', '2': 'ACCOUNTING', '3': 'COMPUTER_SOFTWARE' }, both, names);
    expect(check).toMatchObject({ ok: true, valuesAtoB: { '1': 'BANKING', '2': 'ACCOUNTING' } });
  });
});
