import { describe, expect, it } from 'vitest';
import { fromHubSpot, toHubSpot } from '../../connectors/hubspot/values.js';
import { translateType, toFieldSpec } from '../../connectors/hubspot/properties.js';

describe('values from HubSpot', () => {
  it('canonicalises each type', () => {
    expect(fromHubSpot('1250.5', 'number')).toBe(1250.5);
    expect(fromHubSpot('', 'number')).toBeNull();
    expect(fromHubSpot(null, 'text')).toBeNull();
    expect(fromHubSpot(undefined, 'text')).toBeNull();
    expect(fromHubSpot('2015-05-01', 'date')).toBe('2015-05-01');
    expect(fromHubSpot('1430438400000', 'date')).toBe('2015-05-01');
    expect(fromHubSpot('2020-02-29T03:30:17Z', 'datetime')).toBe('2020-02-29T03:30:17.000Z');
    expect(fromHubSpot('1582947017000', 'datetime')).toBe('2020-02-29T03:30:17.000Z');
    expect(fromHubSpot('true', 'boolean')).toBe(true);
    expect(fromHubSpot('false', 'boolean')).toBe(false);
    expect(fromHubSpot('A;B;C', 'checkboxes')).toEqual(['A', 'B', 'C']);
    expect(fromHubSpot(';', 'checkboxes')).toBeNull();
    expect(fromHubSpot('41629779', 'owner')).toBe('41629779');
    expect(fromHubSpot('42', 'score')).toBe(42);
    expect(fromHubSpot('Ada Lovelace', 'calculation')).toBe('Ada Lovelace');
  });
});

describe('values to HubSpot', () => {
  it('serialises each type as HubSpot expects', () => {
    expect(toHubSpot(null, 'text')).toBe('');
    expect(toHubSpot(1250.5, 'number')).toBe('1250.5');
    expect(toHubSpot(1e21, 'number')).toBe('1000000000000000000000');
    expect(toHubSpot(true, 'boolean')).toBe('true');
    expect(toHubSpot(false, 'boolean')).toBe('false');
    expect(toHubSpot('2015-05-01', 'date')).toBe('2015-05-01');
    expect(toHubSpot('2015-05-01T22:00:00.000Z', 'date')).toBe('2015-05-01');
    expect(toHubSpot('2015-05-01', 'datetime')).toBe('2015-05-01T00:00:00.000Z');
    expect(toHubSpot(['A', 'B'], 'checkboxes')).toBe('A;B');
    expect(toHubSpot(['', 'C'], 'checkboxes')).toBe('C'); // never a leading ';' (that appends)
    expect(toHubSpot([], 'checkboxes')).toBe('');
  });
  it('round-trips canonical values', () => {
    const cases: Array<[unknown, Parameters<typeof toHubSpot>[1]]> = [
      [12, 'number'], ['2024-02-29', 'date'], ['2024-02-29T10:11:12.123Z', 'datetime'], [true, 'boolean'], [['x', 'y'], 'checkboxes'], ['hi', 'text'],
    ];
    for (const [v, t] of cases) expect(fromHubSpot(toHubSpot(v as never, t), t)).toEqual(v);
  });
});

describe('property types (reference §5.3)', () => {
  const p = (type: string, fieldType: string, extra: object = {}) => ({ name: 'x', type, fieldType, ...extra });
  it('follows the translation table', () => {
    expect(translateType(p('string', 'text')).type).toBe('text');
    expect(translateType(p('string', 'textarea')).type).toBe('text');
    expect(translateType(p('phone_number', 'phonenumber')).type).toBe('text');
    expect(translateType(p('number', 'number')).type).toBe('number');
    expect(translateType(p('date', 'date')).type).toBe('date');
    expect(translateType(p('datetime', 'date')).type).toBe('datetime');
    expect(translateType(p('bool', 'booleancheckbox')).type).toBe('boolean');
    expect(translateType(p('enumeration', 'booleancheckbox')).type).toBe('boolean');
    expect(translateType(p('enumeration', 'select')).type).toBe('select');
    expect(translateType(p('enumeration', 'radio')).type).toBe('radio');
    expect(translateType(p('enumeration', 'checkbox')).type).toBe('checkboxes');
    expect(translateType({ name: 'hubspot_owner_id', type: 'enumeration', fieldType: 'select', referencedObjectType: 'OWNER' }).type).toBe('owner');
    expect(translateType(p('number', 'calculation_equation', { calculated: true }))).toEqual({ type: 'calculation', readOnly: true });
    expect(translateType({ name: 'hubspotscore', type: 'number', fieldType: 'number', calculated: true })).toEqual({ type: 'score', readOnly: true });
    expect(translateType(p('string', 'text', { modificationMetadata: { readOnlyValue: true } }))).toEqual({ type: 'text', readOnly: true });
    expect(translateType(p('datetime', 'date', { calculated: true }))).toEqual({ type: 'datetime', readOnly: true });
    expect(translateType(p('string', 'file')).unreliable).toMatch(/file/);
  });
  it('builds a field spec with options, role and uniqueness', () => {
    const f = toFieldSpec('contacts', { name: 'email', label: 'Email', type: 'string', fieldType: 'text' });
    expect(f).toEqual({ name: 'email', label: 'Email', type: 'text', readOnly: false, role: 'email', unique: true });
    const tier = toFieldSpec('contacts', {
      name: 'tier', label: 'Tier', type: 'enumeration', fieldType: 'select', hasUniqueValue: false,
      options: [{ label: 'Gold', value: 'gold' }, { label: 'Old', value: 'old', hidden: true }],
    });
    expect(tier.options).toEqual([{ value: 'gold', label: 'Gold' }]);
    expect(toFieldSpec('deals', { name: 'deal_number', type: 'string', fieldType: 'text', hasUniqueValue: true }).unique).toBe(true);
  });
});
