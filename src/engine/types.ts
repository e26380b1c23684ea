/** What a sync run works with and what it reports. */
import type { Connector, Fields, ObjectSpec, SourceRecord } from '../connector.js';
import type { SyncConfig } from '../config/types.js';
import type { FieldMapping } from '../mapping/types.js';
import type { MappingRow } from '../mapping/describe.js';
import type { LinkRow, Side, StateStore } from '../state/store.js';
import type { FieldChange } from './merge.js';

export interface SideContext {
  side: Side;
  connection: string;
  connector: Connector;
  spec: ObjectSpec;
}

export interface SyncContext {
  sync: SyncConfig;
  sides: Record<Side, SideContext>;
  mappings: FieldMapping[];
  store: StateStore;
  dryRun: boolean;
  retryFailed: boolean;
  signal?: AbortSignal;
  progress?: (event: ProgressEvent) => void;
  /** Translates association ids through the links of other syncs (SPEC §4 Associations). */
  associations?: AssociationBridge;
  /**
   * Read everything, not only what changed since the cursors: the sync's
   * settings changed, so records that did not change are checked again
   * (HubSpot re-runs its initial sync when a sync's settings are saved).
   */
  rescan?: boolean;
  /** Records per write batch (default: by the number of records to apply, see `batchSizeFor`). */
  batchSize?: number;
  /**
   * Sides whose app object no other sync of this run writes: only there can
   * the connector tell this sync's writes from everyone else's, so only there
   * is the cursor moved past them (`Connector.cursorAfterWrites`).
   */
  ownWrites?: Record<Side, boolean>;
  /**
   * A targeted pass (engine/targeted.ts): only these records of each side are
   * read, by id (a side left out reads nothing), and no cursor is saved.
   */
  targets?: Partial<Record<Side, readonly string[]>>;
}

export interface AssociationBridge {
  /** Pseudo-field mappings (`@company`), merged like fields; values are ids in side a's space. */
  mappings: FieldMapping[];
  /** Association names to read on a side. */
  names(side: Side): string[];
  /** The pseudo-field values of a record, as ids of side a. */
  values(side: Side, rec: SourceRecord): Fields;
  /**
   * Splits the pseudo-fields out of a write to `side`, translated to that
   * side's ids. A related record not linked yet is `dropped`: it waits.
   */
  split(side: Side, fields: Fields): { fields: Fields; associations?: Record<string, string[]>; dropped: string[] };
}

export type ProgressEvent =
  | { phase: 'scan'; sync: string; side: Side; connection: string; records: number }
  | { phase: 'apply'; sync: string; done: number; total: number }
  | { phase: 'wait'; sync: string; reason: string; ms: number };

export interface SideCounts {
  connection: string;
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  excluded: number;
  deleted: number;
}

export type PlannedAction =
  | { kind: 'create'; in: Side; from: string; fields: Fields }
  | { kind: 'update'; in: Side; id: string; changes: FieldChange[] }
  | { kind: 'link'; a: string; b: string; key: string }
  | { kind: 'fail'; side: Side; id: string; reason: string }
  | { kind: 'exclude'; side: Side; id: string; reason: string }
  | { kind: 'deleted'; side: Side; id: string };

export interface SyncSummary {
  sync: string;
  object: string;
  outcome: 'ok' | 'failed-records' | 'stopped' | 'error' | 'interrupted';
  sides: Record<Side, SideCounts>;
  linked: number;
  /** Records with conflicting edits on both sides (not fields), settled by the default app. */
  conflicts: number;
  /** Records of this sync whose last attempt failed, in this pass or an earlier one (they are retried). */
  failedStanding?: number;
  /** The connection whose values win a conflict. */
  defaultApp?: string;
  error?: { code: string; message: string; hint?: string };
  /** The effective mappings: field pairs, types and the direction of each. */
  mappings?: MappingRow[];
  /** What the pass noticed and did not act on (a suspect listing, a change time in the future), one sentence each. */
  warnings?: string[];
  /** Only with --dry-run: what would change, record by record. */
  plan?: PlannedAction[];
}

/** One piece of work of a run: a pair to merge, or a record to create on the other side. */
export type Unit =
  | { kind: 'pair'; link: LinkRow | null; a: SourceRecord | null; b: SourceRecord | null; key?: string;
      /** A side was excluded until this run: the other side is fetched even if it did not change. */
      resumed?: boolean }
  | { kind: 'create'; from: Side; record: SourceRecord };

