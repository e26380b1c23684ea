/**
 * Every ordered pair of the 12 field types as a custom mapping, checked
 * against a table written by hand from SPEC §5 (not derived from the code).
 */
import { describe, expect, it } from 'vitest';
import { FIELD_TYPES, type FieldSpec, type FieldType } from '../../src/connector.js';
import { resolveMappings } from '../../src/mapping/resolve.js';
import { custom, field, object, options, sync } from './mapping-helpers.js';

const T: readonly FieldType[] = [
  'text', 'number', 'date', 'datetime', 'boolean', 'select', 'radio',
  'checkboxes', 'owner', 'calculation', 'score', 'multi',
];

// Row: side a's type. Columns: side b's type, in the order of T.
// ↔ two-way · → one-way a to b · ← one-way b to a · × refused
//
// SPEC §5: two-way text–text, number–number, date–date, datetime–datetime,
// date–datetime, boolean–boolean, select–select, radio–radio; one-way into
// text only from number, date, datetime, boolean, select, radio, checkboxes,
// calculation, score; multi never custom-mapped; all else refused. Issue 19:
// owner–owner and owner–text two-way (an owner's value is its email).
const TABLE: Record<FieldType, string> = {
  //          text nmbr date dtm  bool sel  rad  chk  own  calc scor mult
  text:        '↔    ←    ←    ←    ←    ←    ←    ←    ↔    ←    ←    ×',
  number:      '→    ↔    ×    ×    ×    ×    ×    ×    ×    ×    ×    ×',
  date:        '→    ×    ↔    ↔    ×    ×    ×    ×    ×    ×    ×    ×',
  datetime:    '→    ×    ↔    ↔    ×    ×    ×    ×    ×    ×    ×    ×',
  boolean:     '→    ×    ×    ×    ↔    ×    ×    ×    ×    ×    ×    ×',
  select:      '→    ×    ×    ×    ×    ↔    ×    ×    ×    ×    ×    ×',
  radio:       '→    ×    ×    ×    ×    ×    ↔    ×    ×    ×    ×    ×',
  checkboxes:  '→    ×    ×    ×    ×    ×    ×    ×    ×    ×    ×    ×',
  owner:       '↔    ×    ×    ×    ×    ×    ×    ×    ↔    ×    ×    ×',
  calculation: '→    ×    ×    ×    ×    ×    ×    ×    ×    ×    ×    ×',
  score:       '→    ×    ×    ×    ×    ×    ×    ×    ×    ×    ×    ×',
  multi:       '×    ×    ×    ×    ×    ×    ×    ×    ×    ×    ×    ×',
};

const cell = (a: FieldType, b: FieldType) => TABLE[a].split(/\s+/)[T.indexOf(b)]!;
const rows = T.flatMap((a) => T.map((b) => ({ a, b, expected: cell(a, b) })));
const FLOW = { '↔': 'both', '→': 'a-to-b', '←': 'b-to-a' } as const;

function fieldOf(name: string, type: FieldType): FieldSpec {
  return field(name, type, type === 'select' || type === 'radio' ? { options: options('new', 'won') } : {});
}

describe('the type table itself', () => {
  it('covers the 12 types of connector.ts, 144 ordered pairs', () => {
    expect([...T].sort()).toEqual([...FIELD_TYPES].sort());
    expect(rows).toHaveLength(144);
  });

  it('is the mirror image of itself (a→b in one cell is b←a in the other)', () => {
    const mirror: Record<string, string> = { '↔': '↔', '→': '←', '←': '→', '×': '×' };
    for (const { a, b, expected } of rows) expect(cell(b, a), `${a}/${b}`).toBe(mirror[expected]);
  });
});

describe('custom mapping of every ordered pair of types', () => {
  it.each(rows)('$a ↔ $b: $expected', ({ a, b, expected }) => {
    const result = resolveMappings(sync([custom('fa', 'fb')]), object([fieldOf('fa', a)]), object([fieldOf('fb', b)]));
    if (expected === '×') {
      expect(result.mappings).toEqual([]);
      expect(result.problems).toHaveLength(1);
      expect(result.problems[0]).toMatch(/^sync\.yaml:20:11: mapping hubspot\.fa ↔ crm\.fb: .+; .+/);
      expect(result.problems[0]).toMatch(a === 'multi' || b === 'multi' ? /cannot be custom-mapped/ : /cannot be mapped to/);
      return;
    }
    expect(result.problems).toEqual([]);
    expect(result.mappings).toHaveLength(1);
    const m = result.mappings[0]!;
    expect(m.flow).toBe(FLOW[expected as keyof typeof FLOW]);
    expect(m.origin).toBe('custom');
    if (expected === '→') expect(m.note).toBe(`${a} written as text, never back`);
    if (expected === '←') expect(m.note).toBe(`${b} written as text, never back`);
    if (expected === '↔') expect(m.note).toBeUndefined();
  });
});

describe('refusals name the allowed alternatives', () => {
  it('date → number says what each side maps with instead', () => {
    const { problems } = resolveMappings(sync([custom('fa', 'fb')]), object([field('fa', 'date')]), object([field('fb', 'number')]));
    expect(problems[0]).toContain('date cannot be mapped to number');
    expect(problems[0]).toContain('date maps two-way with date or datetime, or one-way into text');
    expect(problems[0]).toContain('number maps two-way with number, or one-way into text');
  });
});
