/**
 * Match keys (SPEC §4 Matching and Rules): the normalised values two records
 * must share to be paired at the first match. A record yields a list of keys;
 * two records match when they share any one of them (companies: domain or name).
 */
import type { FieldSpec, Fields, ObjectSpec, StandardRole, Value } from '../connector.js';
import type { SyncConfig } from '../config/types.js';

/** Trimmed and lower-cased. */
/**
 * An email as people mean it: Unicode NFKC (a full-width ａ is a), invisible
 * format characters (a zero-width space pasted from a web page, a BOM, a soft
 * hyphen: Unicode category Cf) removed, trimmed, lower case. Without this,
 * `ann\u200b@x.se` looked like a valid address of its own and was created as
 * a second Ann.
 */
export function normalizeEmail(email: string): string {
  return visible(email).trim().toLowerCase();
}

const visible = (s: string) => s.normalize('NFKC').replace(/\p{Cf}/gu, '');

/**
 * A pragmatic check, not RFC 5322: exactly one @, a non-empty local part, a
 * domain of at least two non-empty dot-separated labels, and no whitespace.
 */
export function isValidEmail(email: string): boolean {
  const e = visible(email).trim();
  if (/\s/.test(e)) return false;
  const parts = e.split('@');
  if (parts.length !== 2) return false;
  const [local, domain] = parts as [string, string];
  return local.length > 0 && /^[^.]+(\.[^.]+)+$/.test(domain);
}

/**
 * The bare host name of a URL, domain or email address: lower-case, without
 * scheme, user, `www.`, port, path, query, fragment or trailing dot.
 * `https://www.Example.com:8080/a?b` -> `example.com`; `jo@Example.com` -> `example.com`.
 */
export function normalizeDomain(input: string): string {
  let d = input.trim().toLowerCase();
  d = d.replace(/^mailto:/, '').replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^\/\//, '');
  d = d.split(/[/?#]/)[0] ?? '';
  d = d.slice(d.lastIndexOf('@') + 1);
  d = d.replace(/:\d*$/, '').replace(/\.+$/, '').replace(/^www\./, '');
  return d;
}

/** Trimmed, lower-cased, inner whitespace collapsed to one space. */
export function normalizeCompanyName(name: string): string {
  return name.normalize('NFC').trim().toLowerCase().replace(/\s+/g, ' ');
}

/** The keys a record can be matched on; [] when it cannot be matched. */
export function matchKeys(object: string, fields: Fields, spec: ObjectSpec, match: SyncConfig['match'],
  side: 'a' | 'b'): string[] {
  if (match === 'none') return [];
  if (typeof match === 'object') return customKey(fields, spec, match[side]);
  if (object === 'contacts') return contactKeys(fields, spec);
  if (object === 'companies') return companyKeys(fields, spec);
  return [];
}

/** Why a contact is excluded by `only_with_email`, or null when it has a valid email. */
export function emailRule(fields: Fields, spec: ObjectSpec): null | 'no email' | 'invalid email' {
  const f = fieldFor(spec, 'email');
  const email = f ? firstText(fields[f.name]) : null;
  if (email === null) return 'no email';
  return isValidEmail(email) ? null : 'invalid email';
}

/** Contacts: their email, only when it is a valid address (so "n/a" never pairs records). */
function contactKeys(fields: Fields, spec: ObjectSpec): string[] {
  const f = fieldFor(spec, 'email');
  const email = f ? firstText(fields[f.name]) : null;
  return email !== null && isValidEmail(email) ? [`email:${normalizeEmail(email)}`] : [];
}

/** Companies: domain (else website) and name; a domain counts only with a dot in it. */
function companyKeys(fields: Fields, spec: ObjectSpec): string[] {
  const keys: string[] = [];
  const domain = textOf(fields, fieldFor(spec, 'domain')) ?? textOf(fields, fieldFor(spec, 'website'));
  const d = domain === null ? '' : normalizeDomain(domain);
  if (d.includes('.') && !/\s/.test(d)) keys.push(`domain:${d}`);
  const name = textOf(fields, fieldFor(spec, 'name'));
  const n = name === null ? '' : normalizeCompanyName(name);
  if (n) keys.push(`name:${n}`);
  return keys;
}

/** `match: {a: field, b: field}`: strings trimmed and lower-cased, numbers as canonical decimals. */
function customKey(fields: Fields, spec: ObjectSpec, name: string): string[] {
  const v = fields[name] ?? null;
  const type = spec.fields.find((f) => f.name === name)?.type;
  let key: string | null;
  if (v === null) key = null;
  else if (typeof v === 'number') key = Number.isFinite(v) ? String(v) : null;
  else if (typeof v === 'boolean') key = String(v);
  else if (typeof v === 'string') key = v.trim().toLowerCase();
  else if (type === 'checkboxes') key = [...new Set(v.map((x) => x.trim().toLowerCase()))].filter(Boolean).sort().join(';');
  else key = (firstText(v) ?? '').trim().toLowerCase();
  return key ? [`custom:${key}`] : [];
}

/** The field with that role, else the field with that name (case-insensitive). */
function fieldFor(spec: ObjectSpec, role: StandardRole): FieldSpec | undefined {
  return spec.fields.find((f) => f.role === role) ?? spec.fields.find((f) => f.name.toLowerCase() === role);
}

function textOf(fields: Fields, f: FieldSpec | undefined): string | null {
  return f ? firstText(fields[f.name]) : null;
}

/** The value as non-blank text; a list gives its first non-blank entry (multi: the primary one). */
function firstText(v: Value | undefined): string | null {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.find((x) => x.trim() !== '') ?? null;
  const s = String(v);
  return s.trim() === '' ? null : s;
}

/** Whether two records' key lists are the same (same keys, same order). */
export function sameKeys(x: string[], y: string[]): boolean {
  return x.length === y.length && x.every((k, i) => k === y[i]);
}
