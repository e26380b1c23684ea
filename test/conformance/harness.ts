/**
 * What a connector's test file provides to the conformance suite: a fresh
 * connector over a fresh app holding `contacts` and `companies` (contacts
 * with a single company association), and ways to change the app behind the
 * connector's back, as a person or another program would.
 */
import type { Connector, Fields, FieldType } from '../../src/connector.js';

/** Field names in this app for the values the suite writes; leave out a type the app has no field for. */
export interface ConformanceFields {
  /** contacts: the email field (text). */
  email: string;
  /** contacts: typed fields, by canonical type. */
  typed: Partial<Record<'text' | 'number' | 'date' | 'datetime' | 'boolean', string>>;
  /** companies: the name field (text). */
  companyName: string;
}

export type ConformanceObject = 'contacts' | 'companies';

export interface SeedRecord {
  fields: Fields;
  /** contacts only: { company: [companyId] } with the app's association name. */
  associations?: Record<string, string[]>;
}

export interface ConformanceApp {
  connector: Connector;
  fields: ConformanceFields;
  /** Name of the contacts → companies association. */
  companyAssociation: string;
  /** Records per read page the connector was configured with (the suite seeds a few pages' worth). */
  pageSize: number;
  /** Writes records straight into the app; values are canonical, the harness stores them the app's own way. */
  seed(object: ConformanceObject, records: SeedRecord[]): Promise<string[]>;
  /** Changes fields of a record straight in the app (bumping its change time where the app keeps one). */
  edit(object: ConformanceObject, id: string, fields: Fields): Promise<void>;
  /** Deletes (or archives) a record straight in the app. */
  remove(object: ConformanceObject, id: string): Promise<void>;
  dispose(): Promise<void>;
}

export type MakeHarness = () => Promise<ConformanceApp>;

export const TYPED: readonly ('text' | 'number' | 'date' | 'datetime' | 'boolean')[] = ['text', 'number', 'date', 'datetime', 'boolean'];
export type TypedKind = (typeof TYPED)[number] & FieldType;
