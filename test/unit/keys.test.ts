/** Match keys and the email rule (SPEC §4 Matching and Rules). */
import { describe, expect, it } from 'vitest';
import {
  emailRule, isValidEmail, matchKeys, normalizeCompanyName, normalizeDomain, normalizeEmail,
} from '../../src/engine/keys.js';
import { field, object } from './mapping-helpers.js';

const contacts = object([field('email', 'text', { role: 'email' }), field('external_id', 'number'), field('code', 'text')]);
const crmContacts = object([field('Mail', 'text', { role: 'email' }), field('emails', 'multi')]);
const companies = object([
  field('domain', 'text', { role: 'domain' }), field('website', 'text', { role: 'website' }), field('name', 'text', { role: 'name' }),
], 'companies');
const orgs = object([field('url', 'text', { role: 'website' }), field('Name', 'text')], 'companies');

describe('emails', () => {
  it('normalise by trimming and lower-casing', () => {
    expect(normalizeEmail('  Anna.Berg@Example.COM ')).toBe('anna.berg@example.com');
  });

  it.each([
    ['anna@example.com', true], [' anna@example.com ', true], ['a+tag@sub.example.co.uk', true],
    ['', false], ['anna', false], ['@example.com', false], ['anna@example', false], ['anna@@example.com', false],
    ['an na@example.com', false], ['anna@example..com', false], ['anna@.com', false], ['n/a', false],
  ])('%j valid: %s', (email, valid) => expect(isValidEmail(email)).toBe(valid));

  it('contacts match on their email, trimmed and case-insensitive', () => {
    const a = matchKeys('contacts', { email: ' Anna@Example.com' }, contacts, 'default', 'a');
    const b = matchKeys('contacts', { Mail: 'anna@example.COM ' }, crmContacts, 'default', 'b');
    expect(a).toEqual(['email:anna@example.com']);
    expect(b).toEqual(a);
  });

  it('contacts without a valid email have no key', () => {
    expect(matchKeys('contacts', { email: null }, contacts, 'default', 'a')).toEqual([]);
    expect(matchKeys('contacts', { email: 'n/a' }, contacts, 'default', 'a')).toEqual([]);
  });

  it('the email rule says no email / invalid email', () => {
    expect(emailRule({ email: 'anna@example.com' }, contacts)).toBeNull();
    expect(emailRule({ email: '  ' }, contacts)).toBe('no email');
    expect(emailRule({}, contacts)).toBe('no email');
    expect(emailRule({ email: 'anna(at)example.com' }, contacts)).toBe('invalid email');
    expect(emailRule({ x: 'a@b.se' }, object([field('x', 'text')]))).toBe('no email');
  });

  it('a field named email counts when no field has the role; a multi gives its first value', () => {
    const byName = object([field('EMAIL', 'text')]);
    expect(matchKeys('contacts', { EMAIL: 'x@y.se' }, byName, 'default', 'a')).toEqual(['email:x@y.se']);
    const multi = object([field('emails', 'multi', { role: 'email' })]);
    expect(matchKeys('contacts', { emails: ['Work@Y.se', 'home@y.se'] }, multi, 'default', 'b')).toEqual(['email:work@y.se']);
  });
});

describe('domains', () => {
  it.each([
    ['https://www.Example.com/', 'example.com'],
    ['http://example.com:8080/path?x', 'example.com'],
    ['EXAMPLE.com', 'example.com'],
    ['example.com.', 'example.com'],
    ['www.example.com', 'example.com'],
    ['//www.example.com/a#b', 'example.com'],
    ['sub.example.com', 'sub.example.com'],
    ['anna@Example.com', 'example.com'],
    ['https://user:pw@www.example.com:443/x', 'example.com'],
    ['mailto:anna@example.com', 'example.com'],
  ])('%j -> %j', (input, expected) => expect(normalizeDomain(input)).toBe(expected));

  it('https://www.Example.com/ and example.com are the same company key', () => {
    const a = matchKeys('companies', { domain: 'https://www.Example.com/', name: null }, companies, 'default', 'a');
    const b = matchKeys('companies', { url: 'example.com' }, orgs, 'default', 'b');
    expect(a).toEqual(['domain:example.com']);
    expect(b).toEqual(a);
  });

  it('http://example.com:8080/path?x and EXAMPLE.com are the same company key', () => {
    const a = matchKeys('companies', { domain: 'EXAMPLE.com' }, companies, 'default', 'a');
    const b = matchKeys('companies', { url: 'http://example.com:8080/path?x' }, orgs, 'default', 'b');
    expect(b).toEqual(a);
  });

  it('the website is used when the domain is empty; junk without a dot is no key', () => {
    expect(matchKeys('companies', { domain: '', website: 'https://acme.se' }, companies, 'default', 'a')).toEqual(['domain:acme.se']);
    expect(matchKeys('companies', { domain: 'n/a' }, companies, 'default', 'a')).toEqual([]);
  });
});

describe('company names', () => {
  it('normalise case and spacing', () => {
    expect(normalizeCompanyName('  Acme   Trading\tAB ')).toBe('acme trading ab');
  });

  it('companies match on domain or name, both keys given', () => {
    const a = matchKeys('companies', { domain: 'acme.se', name: 'Acme  Trading AB' }, companies, 'default', 'a');
    expect(a).toEqual(['domain:acme.se', 'name:acme trading ab']);
    const b = matchKeys('companies', { Name: ' acme trading ab' }, orgs, 'default', 'b');
    expect(b).toEqual(['name:acme trading ab']);
    expect(a).toEqual(expect.arrayContaining(b));
  });
});

describe('match modes', () => {
  it('match: none never pairs', () => {
    expect(matchKeys('contacts', { email: 'a@b.se' }, contacts, 'none', 'a')).toEqual([]);
  });

  it('deals and custom objects have no default key', () => {
    const deals = object([field('dealname', 'text', { role: 'dealname' })], 'deals');
    expect(matchKeys('deals', { dealname: 'Big deal' }, deals, 'default', 'a')).toEqual([]);
    expect(matchKeys('p_pets', { name: 'Rex' }, object([field('name', 'text')], 'p_pets'), 'default', 'a')).toEqual([]);
  });

  it('match: {a, b} pairs on those fields alone, per side', () => {
    const match = { a: 'external_id', b: 'code' };
    const crm = object([field('code', 'text')]);
    expect(matchKeys('contacts', { external_id: 1042, email: 'a@b.se' }, contacts, match, 'a')).toEqual(['custom:1042']);
    expect(matchKeys('contacts', { code: ' 1042 ' }, crm, match, 'b')).toEqual(['custom:1042']);
    expect(matchKeys('contacts', { external_id: 1.0 }, contacts, match, 'a')).toEqual(['custom:1']);
    expect(matchKeys('contacts', { code: 'AbC' }, crm, match, 'b')).toEqual(['custom:abc']);
    expect(matchKeys('contacts', { code: '  ' }, crm, match, 'b')).toEqual([]);
    expect(matchKeys('contacts', {}, contacts, match, 'a')).toEqual([]);
  });
});
