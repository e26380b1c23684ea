/**
 * The rows a pass created in a CSV file, not saved yet: each written, as it
 * is created, to an append-only temp file beside the file (one JSON line per
 * row), so an initial sync that creates a quarter of a million rows holds
 * only their ids in memory, not their cells. The save (`saveCsv`) copies
 * them from there after the file's own rows; a row read back by id (`get`,
 * an update of a row created in the same pass) is read from its place.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { removeStaleTemps, tempBeside, writeWhole } from './temp.js';

/** The rows' cells, by column name (a row lacks the columns it holds no text in). */
export type Cells = Map<string, string>;

/** Bytes read from the temp file at a time; rows read back by id closer than this to each other are read in one call. */
const CHUNK = 1 << 20;

export class CreatedRows {
  /** The columns of the rows, in the order first written: a row's line holds its texts in this order, after its id. */
  private readonly columns: string[] = [];
  private readonly position = new Map<string, number>();
  /** Columns some row holds text in (in the order first written): a save adds those the file lacks. */
  readonly filled = new Set<string>();
  /** id → row number, in the order created. */
  private readonly ids = new Map<string, number>();
  /** Per row number, the byte its line starts at in the temp file; one more: where the next starts. */
  private readonly starts: number[] = [0];
  /** Lines of rows not written to the temp file yet (those of the write batch in hand: `save` writes them). */
  private pending: string[] = [];
  private saved = 0;
  /** Cells written to a row after it was created (few: an association filled in later in the same pass). */
  private readonly edits = new Map<string, Cells>();
  /** The largest numeric id created, null once an id is not numeric. */
  maxId: number | null = 0;
  private spill: { path: string; handle: FileHandle } | undefined;

  constructor(private readonly file: string) {}

  get count(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** The temp file's path, once a row is written there (for tests and clean-up). */
  get path(): string | undefined {
    return this.spill?.path;
  }

  /** Takes a created row; `save` writes it to the temp file. */
  add(id: string, cells: Cells): void {
    const texts: string[] = [];
    for (const [name, text] of cells) {
      let k = this.position.get(name);
      if (k === undefined) this.position.set(name, (k = this.columns.push(name) - 1));
      while (texts.length < k) texts.push('');
      texts[k] = text;
      if (text !== '') this.filled.add(name);
    }
    for (let k = 0; k < texts.length; k++) texts[k] ??= '';
    const line = JSON.stringify([id, ...texts]);
    this.ids.set(id, this.starts.length - 1);
    this.starts.push(this.starts[this.starts.length - 1]! + Buffer.byteLength(line) + 1);
    this.pending.push(line);
    this.maxId = this.maxId === null || !/^\d{1,15}$/.test(id) ? null : Math.max(this.maxId, Number(id));
  }

  /** Writes a cell of a row created (`add`) in this pass. */
  edit(id: string, name: string, text: string): void {
    let cells = this.edits.get(id);
    if (!cells) this.edits.set(id, (cells = new Map()));
    cells.set(name, text);
    if (text !== '') this.filled.add(name);
  }

  /**
   * Writes the rows taken since the last call to the temp file, created with
   * `mode` (the CSV file's: a 0600 file's rows are never readable by others).
   * A failure leaves the rows unwritten; the caller drops them all.
   */
  async save(mode?: number): Promise<void> {
    if (this.pending.length === 0) return;
    const spill = this.spill ?? (this.spill = await this.create(mode));
    const bytes = Buffer.from(`${this.pending.join('\n')}\n`);
    const at = this.starts[this.saved]!;
    await writeWhole(spill.handle, bytes, at);
    this.pending = [];
    this.saved = this.ids.size;
  }

  private async create(mode?: number): Promise<{ path: string; handle: FileHandle }> {
    const { target, dir, tmp } = await tempBeside(this.file, '.spill');
    if (!existsSync(dir)) await mkdir(dir, { recursive: true });
    // A killed run's rows are gone with it (its writes were never recorded): its temp file too.
    await removeStaleTemps(dir, basename(target));
    const own = mode ?? (await stat(this.file).then((s) => s.mode & 0o777, () => 0o666));
    return { path: tmp, handle: await open(tmp, 'wx+', own) };
  }

  /** The cells of these created rows (ids not created are left out), as written and edited since. */
  async get(ids: Iterable<string>): Promise<Map<string, Cells>> {
    await this.save();
    const rows = [...new Set(ids)].flatMap((id) => {
      const r = this.ids.get(id);
      return r === undefined ? [] : [r];
    }).sort((x, y) => x - y);
    const out = new Map<string, Cells>();
    for (let k = 0; k < rows.length;) {
      // Rows near each other are read in one call, at most 1 MB (or the one row) at a time.
      let end = k + 1;
      while (end < rows.length && this.starts[rows[end]! + 1]! - this.starts[rows[k]!]! <= CHUNK) end++;
      const from = this.starts[rows[k]!]!;
      const span = Buffer.allocUnsafe(this.starts[rows[end - 1]! + 1]! - from);
      const { bytesRead } = await this.spill!.handle.read(span, 0, span.length, from);
      if (bytesRead !== span.length) throw new Error(`the temp file ${this.spill!.path} of ${this.file} is shorter than written`);
      for (; k < end; k++) {
        const r = rows[k]!;
        const [id, ...texts] = JSON.parse(span.toString('utf8', this.starts[r]! - from, this.starts[r + 1]! - from - 1)) as string[];
        const cells: Cells = new Map();
        texts.forEach((text, c) => { if (text !== '') cells.set(this.columns[c]!, text); });
        for (const [name, text] of this.edits.get(id!) ?? []) cells.set(name, text);
        out.set(id!, cells);
      }
    }
    return out;
  }

  /**
   * Every created row, in the order created, as written and edited since,
   * laid out for `header` (a column it lacks is left out): read from the
   * temp file piece by piece.
   */
  async *all(header: string[], idColumn: number): AsyncGenerator<[id: string, row: string[]]> {
    await this.save();
    if (!this.spill) return;
    const place = this.columns.map((name) => header.indexOf(name));
    const row = (line: string): [string, string[]] => {
      const texts = JSON.parse(line) as string[];
      const id = texts[0]!;
      const out = header.map(() => '');
      out[idColumn] = id;
      for (let k = 1; k < texts.length; k++) if (place[k - 1]! >= 0 && texts[k] !== '') out[place[k - 1]!] = texts[k]!;
      for (const [name, text] of this.edits.get(id) ?? []) {
        const col = header.indexOf(name);
        if (col >= 0) out[col] = text;
      }
      return [id, out];
    };
    const end = this.starts[this.saved]!;
    let carry = Buffer.alloc(0);
    for (let at = 0; at < end;) {
      const piece = Buffer.allocUnsafe(Math.min(CHUNK, end - at));
      const { bytesRead } = await this.spill.handle.read(piece, 0, piece.length, at);
      if (bytesRead !== piece.length) throw new Error(`the temp file ${this.spill.path} of ${this.file} is shorter than written`);
      at += bytesRead;
      // Cut at the last line end: a multi-byte character is never cut in two.
      const buf = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
      const last = buf.lastIndexOf(0x0a);
      const text = buf.toString('utf8', 0, last + 1);
      carry = buf.subarray(last + 1);
      for (let i = 0; i < text.length;) {
        const nl = text.indexOf('\n', i);
        yield row(text.slice(i, nl));
        i = nl + 1;
      }
    }
  }

  /** Closes and removes the temp file (after the save, or when the rows are dropped). */
  async discard(): Promise<void> {
    const spill = this.spill;
    this.spill = undefined;
    if (!spill) return;
    await spill.handle.close().catch(() => undefined);
    await unlink(spill.path).catch(() => undefined);
  }
}
