/**
 * The CSV connector's change listing: per version of a file it has read or
 * written, the hash of every row's bytes by id, kept in a cache folder beside
 * the state (`ConnectorContext.cache`) under the version's own hash. A read
 * from the cursor of a version whose row hashes are kept lists only the rows
 * whose bytes differ, or whose id is new, and reports the ids no longer in
 * the file as deleted; the rest of the file is neither parsed into records
 * nor handed to the engine. So a pass over a million-row file with 1% edited
 * hands on 10,000 records, not a million.
 *
 * A kept version is a pure function of the file's bytes (named by their
 * SHA-256), so it is right whenever it exists, whatever crashed when: a
 * missing, foreign or damaged one only means the file is listed whole, as
 * before there was a change listing. Versions no saved cursor names (nor
 * the one read from) are removed by the next read (`pruneRowHashes`).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { RowIndex } from './row-index.js';
import { removeStaleTemps, writeWhole } from './temp.js';

/**
 * A 53-bit hash of bytes: cyrb53 (bryc, public domain), two 32-bit
 * multiply-xor lanes mixed at the end. Far cheaper than a digest per row,
 * and two different rows hash alike once in 2^53: an edit that went unseen
 * that way would be read the next time the row changes or is listed whole.
 */
export function rowHash(bytes: Uint8Array, from: number, to: number): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Where a connector keeps what it derives from an app (ConnectorContext.cache). */
export interface Cache { dir: string; write: boolean }

/** One version's row hashes: its header, ids (row numbers as in the file) and the hash of each row. */
export interface RowHashes { hash: string; header: string[]; index: RowIndex; hashes: Float64Array }

const MAGIC = 'datasync row hashes 1\n';

/** The name prefix of one object's files: its connection and object, safe as a file name ('+' and '.' appear in neither). */
const safe = (name: string) => encodeURIComponent(name).replace(/\./g, '%2E');
const prefixOf = (connection: string, object: string) => `csv+${safe(connection)}+${safe(object)}`;
const nameOf = (prefix: string, hash: string) => `${prefix}.${hash.replace(/^sha256:/, '').slice(0, 32)}.rows`;

/**
 * Keeps a version's row hashes (written to a temp file, synced, renamed):
 * at most one file a version, and nothing when the version is kept already.
 */
export async function saveRowHashes(cache: Cache, connection: string, object: string, version: RowHashes): Promise<void> {
  if (!cache.write) return;
  const prefix = prefixOf(connection, object);
  const path = join(cache.dir, nameOf(prefix, version.hash));
  const { bytes, ends } = version.index.dump();
  const meta = Buffer.from(`${MAGIC}${JSON.stringify({ hash: version.hash, header: version.header, rows: ends.length, idBytes: bytes.length })}\n`);
  const size = meta.length + ends.length * 12 + bytes.length;
  // Kept already (a version read again): a file of its size, named by its hash, is it (a damaged one is found at load).
  if ((await stat(path).catch(() => null))?.size === size) return;
  await mkdir(cache.dir, { recursive: true, mode: 0o700 });
  const tmp = join(cache.dir, `.${prefix}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    let at = 0;
    for (const part of [meta, Buffer.from(version.hashes.buffer, version.hashes.byteOffset, version.hashes.byteLength),
      Buffer.from(ends.buffer, ends.byteOffset, ends.byteLength), bytes]) {
      await writeWhole(handle, part, at);
      at += part.length;
    }
    await handle.sync();
    await handle.close();
    await rename(tmp, path);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** The row hashes kept of the version `hash`, null when none are (or the file is not whole). */
export async function loadRowHashes(cache: Cache, connection: string, object: string, hash: string): Promise<RowHashes | null> {
  return loadFile(join(cache.dir, nameOf(prefixOf(connection, object), hash)), hash);
}

async function loadFile(path: string, hash: string): Promise<RowHashes | null> {
  const data = await readFile(path).catch(() => null);
  if (data === null || data.toString('latin1', 0, MAGIC.length) !== MAGIC) return null;
  const end = data.indexOf(0x0a, MAGIC.length);
  let meta: { hash?: unknown; header?: unknown; rows?: unknown; idBytes?: unknown };
  try {
    meta = JSON.parse(data.toString('utf8', MAGIC.length, end)) as typeof meta;
  } catch {
    return null;
  }
  const { rows, idBytes, header } = meta;
  if (meta.hash !== hash || typeof rows !== 'number' || typeof idBytes !== 'number' || !Array.isArray(header)) return null;
  const at = end + 1;
  if (data.length !== at + rows * 12 + idBytes) return null;
  // Copied out: typed arrays need their own alignment, and the ids keep no view of the whole file.
  const hashes = new Float64Array(rows);
  Buffer.from(hashes.buffer).set(data.subarray(at, at + rows * 8));
  const ends = new Uint32Array(rows);
  Buffer.from(ends.buffer).set(data.subarray(at + rows * 8, at + rows * 12));
  if (rows > 0 && ends[rows - 1] !== idBytes) return null;
  const bytes = Buffer.from(data.subarray(at + rows * 12));
  return { hash, header: header as string[], index: RowIndex.load(bytes, ends), hashes };
}

/** Removes the object's kept versions but those of `keep` (the cursors saved), and temp files of killed runs. */
export async function pruneRowHashes(cache: Cache, connection: string, object: string, keep: readonly string[]): Promise<void> {
  if (!cache.write) return;
  const prefix = prefixOf(connection, object);
  const kept = new Set(keep.map((hash) => nameOf(prefix, hash)));
  for (const name of await readdir(cache.dir).catch(() => [] as string[])) {
    if (name.startsWith(`${prefix}.`) && name.endsWith('.rows') && !kept.has(name)) await unlink(join(cache.dir, name)).catch(() => undefined);
  }
  await removeStaleTemps(cache.dir, prefix);
}
