/**
 * The csv connector: one CSV file per object.
 *
 *   export:
 *     app: csv
 *     dir: ./export             # optional folder for the files (relative to the sync file)
 *     delimiter: ","            # optional
 *     batch_size: 1000          # records per read page (optional)
 *     objects:
 *       contacts: { file: contacts.csv, id: id, create: false,
 *                   fields: { score: { type: number } },
 *                   associations: { company: { field: company_id, object: companies } } }
 *
 * Changes are found by content hash: the cursor is `sha256:<hex>` of the file,
 * a read from the current hash yields nothing, any other read lists the whole
 * file (the engine compares each record with its base). After a run's writes,
 * `cursorAfterWrites` answers the hash of the file as this connector saved it,
 * so the next run does not list the whole file again for the engine's own writes.
 *
 * Writes are deferred (Connector.flush): a pass's write batches change the
 * rows in hand, and `flush` rewrites the file once for all of them; the
 * engine records them after that (docs/finding-changes.md).
 */
import { resolve } from 'node:path';
import type {
  ConnectionConfig, Connector, ConnectorFactory, KnownCursors, ObjectSpec, ReadBatch, ReadOptions, SourceRecord, WriteOp, WriteResult,
} from '../../src/connector.js';
import { appError, configError } from '../../src/errors.js';
import { ConfigReader, type ObjectConfigBase } from '../shared/object-config.js';
import { checkCsv, csvHash, fileStamp, loadCsvAt, saveCsvIfUnchanged, type CsvFile, type CsvObjectConfig } from './file.js';
import { applyOps, csvFields, csvObjectSpec, recordReader, replayOps, type Applied } from './records.js';

interface CsvObject { base: ObjectConfigBase; file: CsvObjectConfig }

/**
 * Rewrites of a file that another program changed meanwhile, each started
 * again from its new version, before the write gives up (exit 3, nothing
 * lost): a program appending rows keeps the file busy only for a while.
 */
const MAX_SAVE_ATTEMPTS = 50;

/** A parsed file and the stamp of the version it holds. */
interface Held { csv: CsvFile; stamp: string }

function parseConfig(config: ConnectionConfig) {
  const reader = new ConfigReader(config);
  const dir = resolve(config.baseDir, config.dir === undefined ? '.' : reader.string(config.dir, '', 'dir'));
  const delimiter = config.delimiter === undefined ? ',' : reader.string(config.delimiter, '', 'delimiter');
  if (delimiter.length !== 1 || /["\r\n]/.test(delimiter)) reader.fail('', '`delimiter` must be one character (not a quote or line break)', 'delimiter');
  const objects = new Map<string, CsvObject>();
  for (const [name, base] of reader.objects()) {
    const where = `object ${name}`;
    const file = base.raw.file === undefined ? `${name}.csv` : reader.string(base.raw.file, where, `objects.${name}.file`);
    const create = base.raw.create ?? false;
    if (typeof create !== 'boolean') return reader.fail(where, '`create` must be true or false', `objects.${name}.create`);
    const initialHeader = [...new Set([base.id, ...Object.keys(base.fields), ...base.associations.map((a) => a.field)])];
    objects.set(name, { base, file: { object: name, file: resolve(dir, file), id: base.id, delimiter, create, initialHeader } });
  }
  return { objects, batchSize: reader.positiveInt('batch_size', 1000) };
}

class CsvConnector implements Connector {
  readonly app = 'csv';
  private readonly cfg: ReturnType<typeof parseConfig>;
  /**
   * The parsed file of each object with the stamp of the version it holds:
   * a run reads, then writes batch after batch, and parsing a large file for
   * every batch made an initial sync quadratic. A file changed by anyone else
   * has another stamp and is parsed again.
   */
  private readonly parsed = new Map<string, Held>();
  /**
   * Per object, what the file is since the last read: `since` is the hash that
   * read gave, `hash` the file's hash after this connector's writes since (or
   * `since` itself), `stamp` the file's stamp after the last save. A write
   * made to any other version than `hash` ends the chain: another program
   * changed the file in between, and only a full read from `since` shows it.
   */
  private readonly chains = new Map<string, { since: string; hash: string; stamp: string | null }>();
  /**
   * Per object, the header and hash of a file `check` did not parse (a
   * version a saved cursor names), with the stamp of that version: `describe`
   * and `read` take them while the file keeps that stamp, so a run over an
   * unchanged file parses none of it (a 100,000-row file took ~0.5 s to
   * parse and hold, most of an incremental run).
   */
  private readonly checked = new Map<string, { stamp: string; header: string[]; hash: string }>();
  /**
   * Per object, the writes answered since the file was last saved, in order:
   * the rows in `parsed` hold them, and a version of the file another
   * program saved meanwhile gets them applied again (`hold`).
   */
  private readonly unsaved = new Map<string, Applied[]>();
  /** Per object, why writes answered were dropped unsaved: the next `flush` throws it. */
  private readonly failed = new Map<string, Error>();

  constructor(private readonly config: ConnectionConfig) {
    this.cfg = parseConfig(config);
  }

  /** Checks every file whole (kept for the read), but a version a saved cursor names (see `checked`, `checkCsv`). */
  async check(known?: KnownCursors): Promise<void> {
    for (const { file } of this.cfg.objects.values()) {
      const held = this.parsed.get(file.object);
      if (held && held.stamp === (await fileStamp(file.file))) continue;
      const { value: found, stamp } = await this.atStamp(file, () => checkCsv(file, known?.get(file.object)));
      if (stamp === null) continue;
      if ('rows' in found) this.parsed.set(file.object, { csv: found, stamp });
      else this.checked.set(file.object, { stamp, ...found });
    }
  }

  async describe(): Promise<ObjectSpec[]> {
    const out: ObjectSpec[] = [];
    for (const { base, file } of this.cfg.objects.values()) {
      const header = (await this.checkedNow(file))?.header ?? (await this.load(file)).header;
      out.push(csvObjectSpec(base, header));
    }
    return out;
  }

  async *read(object: string, opts: ReadOptions): AsyncIterable<ReadBatch> {
    const { base, file } = this.object(object);
    await this.flush(object);
    const hash = (await this.checkedNow(file))?.hash ?? (await csvHash(file));
    if (opts.since !== null && opts.since === hash) {
      this.chains.set(file.object, { since: hash, hash, stamp: null });
      return;
    }
    const csv = await this.load(file);
    this.chains.set(file.object, { since: csv.hash, hash: csv.hash, stamp: null });
    const toRecord = recordReader(base, csv, csvFields(base, csv.header), opts);
    const size = this.cfg.batchSize;
    for (let i = 0; i === 0 || i < csv.rows.length; i += size) {
      const last = i + size >= csv.rows.length;
      yield { records: csv.rows.slice(i, i + size).map(toRecord), cursor: last ? csv.hash : null };
    }
  }

  async get(object: string, ids: string[], opts: Omit<ReadOptions, 'since'>): Promise<SourceRecord[]> {
    const { base, file } = this.object(object);
    const csv = await this.load(file);
    const toRecord = recordReader(base, csv, csvFields(base, csv.header), opts);
    return ids.flatMap((id) => {
      const i = csv.index.get(id);
      return i === undefined ? [] : [toRecord(csv.rows[i]!)];
    });
  }

  async missing(object: string, ids: string[]): Promise<string[]> {
    const csv = await this.load(this.object(object).file);
    return ids.filter((id) => !csv.index.has(id));
  }

  /**
   * Applies the ops to the file as held (the version on disk plus the writes
   * not saved yet) and remembers them; `flush` saves the file once for all
   * of them. The answers are not durable before `flush` (Connector.flush).
   */
  async write(object: string, ops: WriteOp[]): Promise<WriteResult[]> {
    if (ops.length === 0) return [];
    const { base, file } = this.object(object);
    const { csv } = await this.hold(file);
    this.keepChain(file, csv);
    const applied = this.unsaved.get(file.object) ?? [];
    const { results, changed } = applyOps(base, csv, ops, applied);
    if (changed) this.unsaved.set(file.object, applied);
    return results;
  }

  /**
   * Saves the file once with every write not saved yet: a temp file synced
   * and renamed over it, only while the file is still the version the rows
   * came from. Another program's change meanwhile (a row appended): the file
   * is read again, the writes applied again to it (`replayOps`), and saved.
   * A failure leaves the file as it was and drops the writes: this flush and
   * the next throw, so the engine records none of them.
   */
  async flush(object: string): Promise<void> {
    const { file } = this.object(object);
    const failed = this.failed.get(file.object);
    if (failed) {
      this.failed.delete(file.object);
      throw failed;
    }
    if (!this.unsaved.has(file.object)) return;
    try {
      for (let attempt = 1; ; attempt++) {
        const { csv, stamp: loaded } = await this.hold(file);
        this.keepChain(file, csv);
        const saved = loaded === null ? null : await saveCsvIfUnchanged(file, csv, loaded);
        if (saved === null) {
          if (attempt < MAX_SAVE_ATTEMPTS) continue;
          throw appError('CSV_KEEPS_CHANGING', `CSV file ${file.file} kept changing while datasync wrote it (${attempt} attempts): nothing was written`, {
            hint: 'another program is writing the file; the next run tries again', transient: true,
          });
        }
        const chain = this.chains.get(file.object);
        csv.hash = saved.hash;
        this.unsaved.delete(file.object);
        if (saved.stamp === null) {
          this.parsed.delete(file.object);
          this.chains.delete(file.object);
        } else {
          this.parsed.set(file.object, { csv, stamp: saved.stamp });
          if (chain) this.chains.set(file.object, { since: chain.since, hash: saved.hash, stamp: saved.stamp });
        }
        return;
      }
    } catch (err) {
      this.drop(file);
      this.failed.delete(file.object); // thrown here: not again by the next flush
      throw err;
    }
  }

  /** Forgets the writes not saved (and the rows holding them). */
  private drop(file: CsvObjectConfig): void {
    this.unsaved.delete(file.object);
    this.parsed.delete(file.object);
    this.chains.delete(file.object);
  }

  /**
   * Ends the chain (see `chains`) when the rows in hand come from another
   * version than the one it ends with: another program changed the file.
   */
  private keepChain(file: CsvObjectConfig, csv: CsvFile): void {
    const chain = this.chains.get(file.object);
    if (chain && csv.hash !== chain.hash) this.chains.delete(file.object);
  }

  /**
   * The hash of the file as this connector's writes since the last read left
   * it, when nothing else changed the file in between or since; otherwise
   * `since` (also when nothing was written, or `since` is not what the last
   * read gave).
   */
  async cursorAfterWrites(object: string, since: string | null): Promise<string | null> {
    const { file } = this.object(object);
    await this.flush(object);
    const chain = this.chains.get(file.object);
    if (since === null || chain === undefined || chain.since !== since || chain.hash === since || chain.stamp === null) return since;
    // Another stamp: someone changed the file after the last save.
    return (await fileStamp(file.file)) === chain.stamp ? chain.hash : since;
  }

  /** What `check` found of the file, while it is still that version. */
  private async checkedNow(file: CsvObjectConfig): Promise<{ header: string[]; hash: string } | undefined> {
    const known = this.checked.get(file.object);
    return known && known.stamp === (await fileStamp(file.file)) ? known : undefined;
  }

  private async load(file: CsvObjectConfig): Promise<CsvFile> {
    return (await this.hold(file)).csv;
  }

  /**
   * The parsed file, reused while its stamp is the one this connector last
   * read or wrote, with that stamp (null when the file changed while it was
   * parsed: then the parse is not kept).
   */
  private async hold(file: CsvObjectConfig): Promise<{ csv: CsvFile; stamp: string | null }> {
    const held = this.parsed.get(file.object);
    if (held && held.stamp === (await fileStamp(file.file))) return held;
    this.parsed.delete(file.object);
    const { csv, stamp } = await loadCsvAt(file);
    const unsaved = this.unsaved.get(file.object);
    if (unsaved) {
      // Another program changed the file since the writes not saved yet were applied: apply them to its version.
      const taken = replayOps(csv, unsaved);
      if (taken !== undefined) {
        const err = appError('CSV_KEEPS_CHANGING', `CSV file ${file.file} changed while datasync wrote it: another program added a row with id ${taken}, the id of a row datasync created; nothing was written`, {
          hint: 'another program is writing the file; the next run tries again', transient: true,
        });
        this.drop(file);
        this.failed.set(file.object, err);
        throw err;
      }
    }
    if (stamp !== null) this.parsed.set(file.object, { csv, stamp });
    return { csv, stamp };
  }

  /** What `read` gets from the file, with the stamp of the version it got it from (null when the file changed meanwhile). */
  private async atStamp<T>(file: CsvObjectConfig, read: () => Promise<T>): Promise<{ value: T; stamp: string | null }> {
    const before = await fileStamp(file.file);
    const value = await read();
    const after = await fileStamp(file.file);
    return { value, stamp: after !== null && after === before ? after : null };
  }

  /** Writes never flushed are dropped: the engine recorded none of them (Connector.flush). */
  async close(): Promise<void> {
    for (const { file } of this.cfg.objects.values()) this.drop(file);
  }

  private object(object: string): CsvObject {
    const found = this.cfg.objects.get(object);
    if (!found) {
      throw configError('UNKNOWN_OBJECT', `connection ${this.config.name} has no object ${object}`, {
        hint: `add \`objects.${object}\` to connection ${this.config.name} (it has: ${[...this.cfg.objects.keys()].join(', ')})`,
      });
    }
    return found;
  }
}

export const factory: ConnectorFactory = {
  app: 'csv',
  create: (config) => new CsvConnector(config),
};
