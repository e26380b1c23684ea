/**
 * The connector contract: everything the engine knows about an app.
 *
 * A connector is small on purpose (after Airbyte/Singer: check, describe, read,
 * write). Values cross this boundary in one canonical form (see `Value`), so the
 * engine never sees an app's wire format.
 */

/** SPEC §5 field types. */
export const FIELD_TYPES = [
  'text', 'number', 'date', 'datetime', 'boolean', 'select', 'radio',
  'checkboxes', 'owner', 'calculation', 'score', 'multi',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/**
 * Canonical values:
 * - text, select, radio, owner: string
 * - number, calculation, score: number
 * - boolean: boolean
 * - date: 'YYYY-MM-DD'; datetime: ISO 8601 UTC 'YYYY-MM-DDTHH:mm:ss.sssZ'
 * - checkboxes, multi: string[] (multi: first value is the primary one)
 * - empty: null (connectors turn '' and [] into null)
 */
export type Value = string | number | boolean | string[] | null;
export type Fields = Record<string, Value>;

export interface FieldOption { value: string; label?: string }

/** Roles used to build default mappings between two connectors. */
export const STANDARD_ROLES = [
  'email', 'firstname', 'lastname', 'phone', 'mobilephone', 'jobtitle', 'company',
  'website', 'address', 'city', 'state', 'zip', 'country', 'lifecyclestage',
  'name', 'domain', 'industry', 'description', 'numberofemployees', 'annualrevenue',
  'dealname', 'amount', 'dealstage', 'pipeline', 'closedate',
] as const;
export type StandardRole = (typeof STANDARD_ROLES)[number];

export interface FieldSpec {
  name: string;
  label: string;
  type: FieldType;
  readOnly: boolean;
  options?: FieldOption[];
  /** Set when the app cannot read this field reliably; the text says why. */
  unreliable?: string;
  /** The standard meaning of the field, for default mappings. */
  role?: StandardRole;
  /** The table or object this field refers to (a declared foreign key): never default-mapped (mapping/references.ts). */
  reference?: string;
  /** Values must be unique in the app (HubSpot email, domain). */
  unique?: boolean;
}

/** A link from a record to a record of another object in the same app. */
export interface AssociationSpec {
  /** Name used in SourceRecord.associations, e.g. 'company', 'contacts'. */
  name: string;
  /** The related object, e.g. 'companies'. */
  object: string;
  /** True when a record has at most one (the primary company). */
  single: boolean;
}

export interface ObjectSpec {
  name: string;
  label: string;
  fields: FieldSpec[];
  associations: AssociationSpec[];
  /** How the connector finds changes in this object, in words (connect shows it). */
  changes?: string;
  capabilities: {
    create: boolean;
    update: boolean;
    /**
     * true: `read` with a cursor returns only what changed since it.
     * false: it yields no batch at all when nothing changed, else lists every
     * record (so the engine knows a record not listed is gone).
     */
    changeCursor: boolean;
    /**
     * true: the connector honours `expect` on updates (see WriteOp): a record
     * changed by anyone since the engine read it is left alone and answered
     * `changed`. Connectors that cannot (HubSpot has no conditional update)
     * leave it out, and a person's edit made between the read and the write
     * of one pass may be overwritten (README, "What datasync promises").
     */
    conditionalUpdate?: boolean;
    /**
     * With a change cursor: a read from a cursor lists the records deleted
     * since it in `ReadBatch.deleted` (Dataverse's `$deletedEntity`), so the
     * engine need not ask `missing()` about every linked record.
     */
    reportsDeletions?: boolean;
    /**
     * With `reportsDeletions`: the deletions reported are records no longer
     * in the listing (rows gone from a CSV file), not the app's own account
     * of deletions, so the suspect-listing rule applies to them as to a full
     * listing (a half-written export is not a mass deletion).
     */
    deletionsFromListing?: boolean;
    /**
     * true when a change can go unseen by the change cursor: it is a column
     * another program must keep current (SQLite/PostgreSQL `updated_at`), and
     * an UPDATE that leaves it alone is not listed. The engine then reads the
     * whole object at least every `reconcile` (SyncConfig.reconcileMs) and
     * compares each record's fingerprint with the one it stored, as HubSpot's
     * own sync re-compares records with its copy.
     */
    cursorMisses?: boolean;
  };
}

export interface SourceRecord {
  id: string;
  fields: Fields;
  /** Association name -> ids of related records in the same app (primary first). */
  associations?: Record<string, string[]>;
  /**
   * Ids of records merged into this one, which are gone as records of their
   * own (HubSpot's `hs_merged_object_ids`; a live merge gives the survivor a
   * new id, so this may list the record's own former ids).
   */
  merged?: string[];
}

/**
 * How a record left an app that can tell (see `Connector.departures`):
 * - `archived`: in a recycle bin, it may come back with its id;
 * - `merged`: merged into record `into`, which answers for it now;
 * - `privacy`: deleted for good as a person's right to erasure (HubSpot's
 *   GDPR delete): nothing of it may stay in the state;
 * - `purged`: deleted for good otherwise (its data goes from the state too).
 */
export type Departure =
  | { id: string; how: 'archived' | 'privacy' | 'purged' }
  | { id: string; how: 'merged'; into: string };

/** Object name → cursors saved for it (one per sync that reads it). */
export type KnownCursors = ReadonlyMap<string, readonly string[]>;

export interface ReadBatch {
  records: SourceRecord[];
  /**
   * The cursor to store once every record up to and including this batch is
   * applied; null while the listing has no resumable position yet.
   */
  cursor: string | null;
  /** Ids deleted since the cursor (connectors whose objects have `reportsDeletions`). */
  deleted?: string[];
  /**
   * This read lists every record although a cursor was given (the app could
   * no longer answer from it: an expired delta token), so a linked record
   * not listed is gone.
   */
  relisted?: boolean;
  /** Something about the records read that a person should fix (shown by `run` and `health`). */
  warnings?: string[];
}

export interface ReadOptions {
  /** A cursor from an earlier ReadBatch; null reads everything. */
  since: string | null;
  /** Fields the engine needs (mapped fields, match and filter fields). */
  fields: string[];
  /** Association names the engine needs. */
  associations?: string[];
}

export type WriteOp =
  | {
      kind: 'create'; ref: string; fields: Fields; associations?: Record<string, string[]>;
      /**
       * The same on every attempt at this create, across runs, until it is
       * recorded: an app with idempotent creates (HubSpot's unique creation
       * key) refuses a second record with it and names the first.
       */
      key?: string;
    }
  | {
      kind: 'update'; ref: string; id: string; fields: Fields; associations?: Record<string, string[]>;
      /**
       * The record's fields as the engine read them (all it read, not only
       * those written). A connector with `conditionalUpdate` writes only while
       * the record still holds these values, in the same transaction as the
       * write, and otherwise answers `{ ok: false, changed: true }`: the
       * record is read again next pass, so a person's edit made during the
       * pass is never overwritten. Absent: write unconditionally.
       */
      expect?: Fields;
    };

export type WriteResult =
  | { ref: string; ok: true; id: string }
  | {
      ref: string;
      ok: false;
      /** The app's reason, fit to show a person. */
      reason: string;
      /** A create refused because the record exists already (HubSpot 409 on email). */
      existingId?: string;
      /**
       * An update not made because the record no longer holds `expect` (someone
       * changed it since it was read): not a failure, the next pass reads it.
       */
      changed?: true;
    };

export interface Connector {
  readonly app: string;
  /**
   * Checks the credential / file and throws an AppError if unusable.
   * `known`: per object, cursors the engine saved after reading it (or after
   * `cursorAfterWrites`). A version of the data such a cursor stands for was
   * read whole, or written by the connector, so it need not be checked again.
   */
  check(known?: KnownCursors): Promise<void>;
  /**
   * The objects and their fields. `objects`: the ones a run syncs; a
   * connector may then read only what those need (a HubSpot credential may
   * lack the scopes of the others).
   */
  describe(objects?: string[]): Promise<ObjectSpec[]>;
  /** Pages through records, oldest change first when `since` is given. */
  read(object: string, opts: ReadOptions): AsyncIterable<ReadBatch>;
  /**
   * Reads the given records by id (any order; ids that no longer exist are
   * left out). Used to retry failed records and to merge with an unchanged
   * record found through the state's match-key index.
   */
  get(object: string, ids: string[], opts: Omit<ReadOptions, 'since'>): Promise<SourceRecord[]>;
  /** Of the given ids, those that no longer exist (deleted or archived). */
  missing(object: string, ids: string[]): Promise<string[]>;
  /**
   * Optional, instead of `missing` for the deletion check: of the given ids,
   * those that left the app and how. An id the app did not answer about
   * clearly (a failed or garbled read) is left out: it never counts as gone.
   */
  departures?(object: string, ids: string[]): Promise<Departure[]>;
  /**
   * Optional: the deletion check costs this app calls per linked record
   * (HubSpot: one per 100), so the engine runs it at most once per this many
   * milliseconds per sync side, not on every pass; 0 = every pass. Merges are
   * seen on every pass anyway, through `SourceRecord.merged`.
   */
  readonly deletionCheckIntervalMs?: number;
  /** Writes a batch; answers once per op, in any order, matched by `ref`. */
  write(object: string, ops: WriteOp[]): Promise<WriteResult[]>;
  /**
   * Optional, for a connector that defers its writes (the csv connector
   * rewrites its file once for many write batches, not once per batch): its
   * `write` answers before the data is durable, and `flush` makes every
   * write answered so far durable, or throws and none of the unflushed
   * writes is. The engine records a write's outcome in the state only after
   * `flush` returned (docs/finding-changes.md, "Deferred writes"), so a
   * crash or a failed flush never leaves the state claiming a write the app
   * does not hold. A connector may flush on its own at any time (safe: more
   * durable sooner).
   */
  flush?(object: string): Promise<void>;
  /**
   * Optional. `since` is the last cursor a read of `object` gave; since that
   * read, this connector may have written records. Answers a cursor from which
   * a read skips this connector's own writes (the engine has recorded them)
   * but still yields every change anyone else made after that read, including
   * a later change to a record it wrote. When it cannot tell its writes from
   * others' changes, it answers `since`. Without this method the engine keeps
   * `since`, and the next run reads its own writes back (and finds them
   * unchanged).
   */
  cursorAfterWrites?(object: string, since: string | null): Promise<string | null>;
  close(): Promise<void>;
}

/** What a connector module exports. `config` is the connection's YAML block. */
export interface ConnectorFactory {
  app: string;
  create(config: ConnectionConfig, ctx: ConnectorContext): Connector;
}

export interface ConnectionConfig {
  name: string;
  app: string;
  /** Folder of the YAML file; relative paths resolve against it. */
  baseDir: string;
  [key: string]: unknown;
}

export interface ConnectorContext {
  /** Reports waits (rate limits) so `health` can show *Queued*. */
  onWait?: (reason: string, ms: number) => void;
  /** Stop signal: connectors stop between requests when aborted. */
  signal?: AbortSignal;
  /**
   * A folder beside the state where a connector may keep what it derives
   * from the app to find changes cheaply (the csv connector's row hashes),
   * each piece correct on its own, so losing any of it costs only time.
   * `write` false (a dry run): read what is there, write nothing.
   * Absent: keep nothing.
   */
  cache?: { dir: string; write: boolean };
}
