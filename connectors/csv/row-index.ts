/**
 * A CSV file's id → row number, in flat memory. A Map of a million ids
 * costs ~53 MB of heap, and an id read from the file is a V8 slice of the
 * 1 MB piece it was decoded from once it is 13 characters or longer, so such
 * a Map also pins every piece it was read from. Here the ids are copied as
 * UTF-8 into one growing buffer (end offsets in a Uint32Array) and found
 * through an open-addressing hash table of row numbers in an Int32Array,
 * compared by bytes: about 20–30 bytes a row, none of it on the JS heap.
 *
 * A row's number is the order it was added in (the file's order), which is
 * how the connector numbers rows (its per-row arrays are indexed the same way),
 * so no value is stored per row.
 *
 * Ids are compared as UTF-8, so two strings with different lone surrogates
 * (both written as U+FFFD) would be one id; text decoded from a file never
 * holds one, and that is where every id here comes from.
 */

const EMPTY = -1;

/** FNV-1a over bytes: cheap, and spreads ids that differ in their last digits. */
export function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

export class RowIndex {
  /** The ids' UTF-8 bytes, one after another. */
  private bytes = Buffer.alloc(1 << 16);
  private used = 0;
  /** Row r's id is bytes[ends[r-1] .. ends[r]] (ends[-1] is 0). */
  private ends = new Uint32Array(1024);
  private count = 0;
  /** Open addressing, linear probing: a row number or EMPTY; at most half full. */
  private table = new Int32Array(2048).fill(EMPTY);
  /** The id being looked up, as UTF-8 (reused: one encoding per call, no garbage). */
  private scratch = Buffer.alloc(256);

  get size(): number {
    return this.count;
  }

  has(id: string): boolean {
    return this.find(this.encode(id)) >= 0;
  }

  /** The row number of `id`, undefined when it is not in the file. */
  get(id: string): number | undefined {
    const row = this.find(this.encode(id));
    return row >= 0 ? row : undefined;
  }

  /** Adds `id` as the next row and answers its number; an id already there is a mistake of the caller. */
  add(id: string): number {
    const length = this.encode(id);
    const slot = this.slotOf(length);
    if (this.table[slot] !== EMPTY) throw new Error(`RowIndex: id "${id}" is already row ${this.table[slot]}`);
    const row = this.count;
    if (this.used + length > 0xffffffff) throw new RangeError('RowIndex: more than 4 GB of ids');
    if (this.used + length > this.bytes.length) {
      const grown = Buffer.alloc(Math.max(this.bytes.length * 2, this.used + length, 1 << 16));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    this.scratch.copy(this.bytes, this.used, 0, length);
    this.used += length;
    if (row === this.ends.length) {
      const grown = new Uint32Array(Math.max(this.ends.length * 2, 1024));
      grown.set(this.ends);
      this.ends = grown;
    }
    this.ends[row] = this.used;
    this.count++;
    this.table[slot] = row;
    if (this.count * 2 > this.table.length) this.rehash(this.table.length * 2);
    return row;
  }

  /** Gives back the growth slack of the ids and their ends (an index about to be held for the pass). */
  trim(): void {
    this.bytes = Buffer.from(this.bytes.subarray(0, this.used));
    this.ends = this.ends.slice(0, this.count);
  }

  /** The id of row `row`. */
  idAt(row: number): string {
    return this.bytes.toString('utf8', row === 0 ? 0 : this.ends[row - 1]!, this.ends[row]!);
  }

  /** The row number here of the id of row `row` of `other`, -1 when it is not here (compared as bytes: no string made). */
  rowOf(other: RowIndex, row: number): number {
    const from = row === 0 ? 0 : other.ends[row - 1]!;
    const length = other.ends[row]! - from;
    if (length > this.scratch.length) this.scratch = Buffer.alloc(length);
    other.bytes.copy(this.scratch, 0, from, from + length);
    return this.find(length);
  }

  /** The ids as stored (their UTF-8 bytes one after another, and where each ends), to be loaded again by `RowIndex.load`. */
  dump(): { bytes: Buffer; ends: Uint32Array } {
    return { bytes: this.bytes.subarray(0, this.used), ends: this.ends.subarray(0, this.count) };
  }

  /** An index of the ids `dump` gave, row numbers as they were. */
  static load(bytes: Buffer<ArrayBuffer>, ends: Uint32Array<ArrayBuffer>): RowIndex {
    const idx = new RowIndex();
    idx.bytes = bytes;
    idx.ends = ends;
    idx.count = ends.length;
    idx.used = ends.length === 0 ? 0 : ends[ends.length - 1]!;
    let slots = 2048;
    while (idx.count * 2 > slots) slots *= 2;
    idx.rehash(slots);
    return idx;
  }

  /** The ids in row order. */
  *keys(): IterableIterator<string> {
    for (let r = 0; r < this.count; r++) yield this.bytes.toString('utf8', r === 0 ? 0 : this.ends[r - 1]!, this.ends[r]!);
  }

  /** Puts `id`'s UTF-8 into `scratch` and answers its length. */
  private encode(id: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (id.length * 3 > this.scratch.length) this.scratch = Buffer.alloc(id.length * 3);
    return this.scratch.write(id, 0, 'utf8');
  }

  private find(length: number): number {
    return this.table[this.slotOf(length)]!;
  }

  /** The slot holding the id in `scratch[0..length]`, or the empty slot where it would go. */
  private slotOf(length: number): number {
    const mask = this.table.length - 1;
    const key = this.scratch;
    for (let slot = fnv1a(key, 0, length) & mask; ; slot = (slot + 1) & mask) {
      const row = this.table[slot]!;
      if (row === EMPTY) return slot;
      const from = row === 0 ? 0 : this.ends[row - 1]!;
      if (this.ends[row]! - from !== length) continue;
      let i = 0;
      while (i < length && this.bytes[from + i] === key[i]) i++;
      if (i === length) return slot;
    }
  }

  private rehash(slots: number): void {
    const table = new Int32Array(slots).fill(EMPTY);
    const mask = slots - 1;
    for (let row = 0; row < this.count; row++) {
      let slot = fnv1a(this.bytes, row === 0 ? 0 : this.ends[row - 1]!, this.ends[row]!) & mask;
      while (table[slot] !== EMPTY) slot = (slot + 1) & mask;
      table[slot] = row;
    }
    this.table = table;
  }
}

/** A per-row column of numbers being built: a typed array grown by doubling, cut to its length by `done`. */
export class GrowingColumn<T extends Float64Array | Uint32Array> {
  private items: T;
  private count = 0;

  /** `expect`: the length it will likely reach (a save knows its rows), so it is not grown by doubling and cut. */
  constructor(private readonly make: (length: number) => T, private readonly max: number, expect = 1024) {
    this.items = make(Math.max(1, expect));
  }

  get length(): number {
    return this.count;
  }

  at(k: number): number {
    return this.items[k]!;
  }

  push(value: number): void {
    // A Uint32Array would silently wrap a value past 2^32.
    if (value > this.max) throw new RangeError(`a value of ${value} is past what the column holds (${this.max})`);
    if (this.count === this.items.length) {
      const grown = this.make(this.items.length * 2);
      grown.set(this.items);
      this.items = grown;
    }
    this.items[this.count++] = value;
  }

  /** The column, exactly its length (the growth slack is given back). */
  done(): T {
    return (this.count === this.items.length ? this.items : this.items.slice(0, this.count)) as T;
  }
}

export const offsetColumn = (expect?: number) => new GrowingColumn((n) => new Float64Array(n), Number.MAX_SAFE_INTEGER, expect);
/** Row hashes (53 bits, `rowHash`). */
export const hashColumn = (expect?: number) => new GrowingColumn((n) => new Float64Array(n), Number.MAX_SAFE_INTEGER, expect);
export const countColumn = (expect?: number) => new GrowingColumn((n) => new Uint32Array(n), 0xffffffff, expect);
