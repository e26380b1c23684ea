/**
 * Change times a connector's cursor is built from (a SQLite or PostgreSQL
 * `updated_at` column another program keeps): how far in the future one is
 * believed. A row stamped 9999-12-31 (by hand, or by a bug) would otherwise
 * move the cursor to that year and every later edit would be passed over
 * (issue 14.7). Such a row is read on every pass, never moves the cursor,
 * and the pass warns about it (`ReadBatch.warnings`, shown by `run` and
 * `health`). Every connector with a time-based cursor uses these.
 */
import { isoMs } from './values.js';

/** Clock skew allowed to another writer. */
export const FUTURE_SKEW_MS = 5 * 60_000;

/** The latest change time believed now, in ms. */
export const futureHorizonMs = (nowMs = Date.now()): number => nowMs + FUTURE_SKEW_MS;

/** The latest change time believed now, as 'YYYY-MM-DDTHH:MM:SS.SSSZ'. */
export const futureHorizon = (nowMs = Date.now()): string => isoMs(futureHorizonMs(nowMs));

/** The warning a pass gives for a row whose change time is past the horizon. */
export const futureRowWarning = (id: string, column: string, time: string): string =>
  `row ${id} has ${column} = ${time}, in the future: it is read on every pass and does not move the cursor; correct that value`;
