/**
 * Owners by email (issue 19). HubSpot stores an owner property
 * (`hubspot_owner_id`) as the owner's numeric id, which means nothing in
 * another app; HubSpot's own data sync maps owners to the other app's users
 * by email. So the connector reads an owner field as its owner's email and
 * writes an email back as the id of the active owner who has it, from the
 * Owners API (`GET /crm/v3/owners`, paged by `after`, active and
 * `archived=true` owners), read once per connector (one run, one `watch`
 * pass) and only when a read or write touches an owner field.
 *
 * Never a wrong owner: an email no active owner has fails that record with
 * the reason, and so does an email only a deactivated owner has. A raw id
 * is taken only when it is an active owner's. Reading an id no owner has
 * (a user removed from the portal) gives no value and a warning.
 */
import type { Fields, SourceRecord, WriteOp, WriteResult } from '../../src/connector.js';
import type { HttpClient } from '../../src/http/client.js';
import { expectAnswer, hasResults } from './answers.js';

export const OWNERS_PATH = '/crm/v3/owners';
/** The Owners API's largest page. */
const PAGE = 500;

export interface Owner { id: string; email?: string | null; archived?: boolean }

interface Directory {
  byId: Map<string, Owner>;
  /** lower-case email → active owners with it. */
  active: Map<string, Owner[]>;
  /** lower-case email → deactivated owners with it. */
  archived: Map<string, Owner[]>;
}

export class OwnerDirectory {
  private loaded?: Promise<Directory>;

  constructor(private readonly http: HttpClient) {}

  private directory(): Promise<Directory> {
    this.loaded ??= this.load().catch((err: unknown) => { this.loaded = undefined; throw err; });
    return this.loaded;
  }

  private async load(): Promise<Directory> {
    const dir: Directory = { byId: new Map(), active: new Map(), archived: new Map() };
    for (const archived of [false, true]) {
      let after: string | undefined;
      do {
        const page = await expectAnswer(this.http, 'GET', OWNERS_PATH, { class: 'read', query: { limit: PAGE, after, archived } },
          hasResults, (body) => ({ results: body.results as Owner[], after: (body as { paging?: { next?: { after?: string } } }).paging?.next?.after }));
        for (const o of page.results) {
          if (!o || o.id === undefined) continue;
          const owner = { ...o, id: String(o.id), archived };
          if (!dir.byId.has(owner.id) || !archived) dir.byId.set(owner.id, owner);
          const email = owner.email?.trim().toLowerCase();
          if (!email) continue;
          const index = archived ? dir.archived : dir.active;
          index.set(email, [...(index.get(email) ?? []), owner]);
        }
        after = page.after || undefined;
      } while (after);
    }
    return dir;
  }

  /** Owner ids in `fields` of each record → the owners' emails; the warnings name the ids no owner has. */
  async toEmails(records: SourceRecord[], fields: string[], object: string): Promise<string[]> {
    if (fields.length === 0 || !records.some((r) => fields.some((f) => typeof r.fields[f] === 'string'))) return [];
    const dir = await this.directory();
    const unknown = new Map<string, string[]>();
    for (const r of records) {
      for (const f of fields) {
        const id = r.fields[f];
        if (typeof id !== 'string' && typeof id !== 'number') continue;
        const email = dir.byId.get(String(id))?.email?.trim();
        if (email) {
          r.fields[f] = email;
        } else {
          r.fields[f] = null;
          unknown.set(String(id), [...(unknown.get(String(id)) ?? []), r.id]);
        }
      }
    }
    return [...unknown].map(([id, ids]) => `HubSpot ${object} ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ` and ${ids.length - 5} more` : ''}: owner id ${id} is not a HubSpot owner with an email (GET ${OWNERS_PATH}); read as no owner`);
  }

  /**
   * Emails in the owner fields of each op → owner ids. An op whose email no
   * active owner has is answered failed here and left out of `ops`. Owner
   * values in `expect` are translated the same way; one that cannot be
   * (the engine read no owner) is left out of the check.
   */
  async toIds(ops: WriteOp[], fields: string[]): Promise<{ ops: WriteOp[]; failed: WriteResult[] }> {
    const touches = (f: Fields | undefined) => !!f && fields.some((n) => f[n] !== undefined && f[n] !== null);
    if (fields.length === 0 || !ops.some((op) => touches(op.fields) || (op.kind === 'update' && touches(op.expect)))) return { ops, failed: [] };
    const dir = await this.directory();
    const out: WriteOp[] = [];
    const failed: WriteResult[] = [];
    for (const op of ops) {
      const values: Fields = { ...op.fields };
      let reason: string | undefined;
      for (const f of fields) {
        const v = values[f];
        if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) continue;
        const found = this.idOf(dir, String(v));
        if ('id' in found) values[f] = found.id;
        else reason ??= `${f}: ${found.reason}`;
      }
      if (reason) {
        failed.push({ ref: op.ref, ok: false, reason });
        continue;
      }
      if (op.kind === 'update' && op.expect) {
        const expect: Fields = { ...op.expect };
        for (const f of fields) {
          if (!(f in expect)) continue;
          const v = expect[f];
          const found = v === null || v === undefined ? undefined : this.idOf(dir, String(v));
          if (found && 'id' in found) expect[f] = found.id;
          else delete expect[f];
        }
        out.push({ ...op, fields: values, expect });
      } else {
        out.push({ ...op, fields: values });
      }
    }
    return { ops: out, failed };
  }

  private idOf(dir: Directory, value: string): { id: string } | { reason: string } {
    const v = value.trim();
    const byId = dir.byId.get(v);
    if (/^\d+$/.test(v) && byId && !byId.archived) return { id: v };
    const active = dir.active.get(v.toLowerCase()) ?? [];
    if (active.length === 1) return { id: active[0]!.id };
    if (active.length > 1) return { reason: `${active.length} HubSpot owners have the email "${v}" (ids ${active.map((o) => o.id).join(', ')}); not guessing which` };
    if (dir.archived.has(v.toLowerCase()) || (byId && byId.archived)) return { reason: `the HubSpot owner "${v}" is deactivated; records cannot be given to them` };
    return { reason: `no HubSpot owner has the email "${v}" (owners listed by GET ${OWNERS_PATH}); add the user to HubSpot or change the owner` };
  }
}
