/** The resolved sync definition (SPEC §3), after validation and ${ENV} substitution. */
import type { ConnectionConfig } from '../connector.js';

export type FilterOp =
  | 'eq' | 'neq' | 'in' | 'not_in' | 'contains' | 'gt' | 'gte' | 'lt' | 'lte'
  | 'is_empty' | 'is_not_empty';

export interface FilterCondition {
  field: string;
  op: FilterOp;
  value?: unknown;
  /** `FILE:LINE:COLUMN` of the condition, for later errors. */
  where: string;
}

export interface CustomMapping {
  /** Field name per connection name. */
  fields: Record<string, string>;
  /** Option value map from the first connection's values to the second's (`values:`). */
  values?: Record<string, string>;
  /** Optional narrowing: 'two-way' or 'A -> B' in connection names. */
  direction?: string;
  where: string;
}

/** Direction expressed on the two sides: index 0 = between[0] (side a), 1 = side b. */
export type Direction = 'two-way' | 'a-to-b' | 'b-to-a';

export interface SyncConfig {
  name: string;
  object: string;
  /** Connection names: [a, b]. */
  between: [string, string];
  direction: Direction;
  /** Connection name whose value wins conflicts. */
  defaultApp: string;
  match: 'default' | 'none' | { a: string; b: string };
  mappings: { defaults: boolean; custom: boolean; fields: CustomMapping[] };
  rules: { onlyWithEmail: boolean };
  /** Per connection name. */
  filters: Record<string, FilterCondition[]>;
  associations: boolean;
  clears: 'keep' | 'propagate';
  /**
   * The share (0–1) of a side's linked records that may vanish in one pass
   * and be marked deleted; more is a suspect listing (engine/scan.ts). Default 0.1.
   */
  suspectDeletions?: number;
  /**
   * Milliseconds at most between two full reads of a side whose change cursor
   * can miss edits (`ObjectSpec.capabilities.cursorMisses`); default one hour.
   */
  reconcileMs?: number;
  /** false when turned off by `stop` (the state also records it). */
  enabled: boolean;
  where: string;
}

export interface Config {
  /** Absolute path of the YAML file. */
  file: string;
  /** Folder of the YAML file. */
  baseDir: string;
  version: 1;
  /** Absolute path of the state file. */
  state: string;
  /** Milliseconds. */
  interval: number;
  connections: Record<string, ConnectionConfig>;
  syncs: SyncConfig[];
}
