/**
 * What is wrong with a local GGUF file, said plainly, before (and after) llama.cpp
 * tries it: a FIFO, device or socket is never opened (reading a FIFO blocks), an
 * empty or cut-short file is named as such instead of llama.cpp's or the GGUF
 * reader's internals ("Cannot read properties of undefined", "Invalid GGUF magic"),
 * a GGUF version llama.cpp does not read is named before it is loaded, and a corrupt
 * header (a flipped byte, an impossible count or length) is told from a file cut short.
 */
import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { describeFsError } from '../../syntax/fsErrors';

/** The GGUF header: magic "GGUF", version (u32), tensor count (u64), metadata count (u64). */
const HEADER_BYTES = 24;
const MAGIC = 'GGUF';

export type ModelFileProblem = { readonly kind: 'missing' } | { readonly kind: 'unusable'; readonly reason: string };

function specialKind(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a plain file';
}

/** "the file is cut short (N bytes; not a whole GGUF model)" */
export function cutShort(size: number): string {
  return `the file is cut short (${size} byte${size === 1 ? '' : 's'}; not a whole GGUF model)`;
}

/** "its header is corrupt at byte X (what is wrong there)" */
function corruptAt(at: number, what: string): string {
  return `its header is corrupt at byte ${at} (${what})`;
}

/**
 * The GGUF versions the bundled llama.cpp reads. node-llama-cpp 3.21.1's llama.cpp
 * (ggml/src/gguf.cpp, GGUF_VERSION 3) refuses version 0, version 1 ("no longer
 * supported") and anything above 3; versions 2 and 3 share one layout.
 */
export const SUPPORTED_GGUF_VERSIONS: readonly number[] = [2, 3];

/** Why llama.cpp will not read a GGUF of this version; undefined when it does. */
function versionProblem(version: number): string | undefined {
  if (SUPPORTED_GGUF_VERSIONS.includes(version)) return undefined;
  const supported = `it reads versions ${SUPPORTED_GGUF_VERSIONS.slice(0, -1).join(', ')} and ${SUPPORTED_GGUF_VERSIONS.at(-1)}`;
  // A GGUF written on a big-endian machine: its version 3 reads as 0x03000000 here.
  const swapped = Buffer.alloc(4);
  swapped.writeUInt32BE(version);
  const hint = SUPPORTED_GGUF_VERSIONS.includes(swapped.readUInt32LE(0)) ? '; the file looks like a big-endian GGUF, made for another kind of machine' : '';
  return `GGUF version ${version} is not supported by the bundled llama.cpp (${supported}${hint})`;
}

/**
 * Real models have a few thousand tensors and a few dozen metadata entries at most; a
 * count above this that the file cannot hold is a corrupt header, not a file cut short
 * (whose header still has the counts of the whole model).
 */
const PLAUSIBLE_COUNT = 1 << 16;
/** The fewest bytes a tensor's entry in the table takes (name length, dimension count, type, offset). */
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;
/** The fewest bytes a metadata entry takes (key length, a one-byte key, value type, a one-byte value). */
const MIN_METADATA_BYTES = 8 + 1 + 4 + 1;

/** The header's tensor or metadata count, when no file of `size` bytes can hold that many (a corrupt header). */
function countProblem(at: number, count: bigint, what: 'tensors' | 'metadata entries', size: number): string | undefined {
  const min = what === 'tensors' ? MIN_TENSOR_INFO_BYTES : MIN_METADATA_BYTES;
  if (count <= BigInt(PLAUSIBLE_COUNT) || BigInt(HEADER_BYTES) + count * BigInt(min) <= BigInt(size)) return undefined;
  return corruptAt(at, `it declares ${count} ${what}, more than a file of ${size} bytes can hold`);
}

/** The file system's refusal in words ("permission denied"); the bare code when there are none. */
function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const words = describeFsError(error);
  if (code === undefined || words !== (error as Error).message) return words;
  return `error ${code}`;
}

/**
 * The cheap checks (one stat, at most 24 bytes read): missing, unreadable, a directory or
 * other non-regular file, empty, shorter than a GGUF header, not starting with "GGUF", a
 * GGUF version llama.cpp does not read, tensor or metadata counts the file cannot hold.
 * Undefined when the file may be a model.
 */
export function modelFileProblem(path: string): ModelFileProblem | undefined {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'unusable', reason: readFailure(error) };
  }
  if (stats.isDirectory()) return { kind: 'unusable', reason: 'is a directory, not a GGUF file' };
  if (!stats.isFile()) return { kind: 'unusable', reason: `is not a regular file (${specialKind(stats)})` };
  if (stats.size === 0) return { kind: 'unusable', reason: 'the file is empty' };
  let head: Buffer;
  try {
    head = readHead(path, Math.min(HEADER_BYTES, stats.size));
  } catch (error) {
    return { kind: 'unusable', reason: readFailure(error) };
  }
  const magic = head.subarray(0, 4).toString('latin1');
  if (!MAGIC.startsWith(magic)) return { kind: 'unusable', reason: `is not a GGUF file (it does not begin with "${MAGIC}")` };
  if (head.length < 8) return { kind: 'unusable', reason: cutShort(stats.size) };
  const version = versionProblem(head.readUInt32LE(4));
  if (version !== undefined) return { kind: 'unusable', reason: version };
  if (head.length < HEADER_BYTES) return { kind: 'unusable', reason: cutShort(stats.size) };
  const counts = countProblem(8, head.readBigUInt64LE(8), 'tensors', stats.size) ?? countProblem(16, head.readBigUInt64LE(16), 'metadata entries', stats.size);
  if (counts !== undefined) return { kind: 'unusable', reason: counts };
  return undefined;
}

function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const read = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** Bytes per block and elements per block of the common ggml tensor types (others: the offsets after them are not checked). */
const TYPE_SIZES: Readonly<Record<number, readonly [bytes: number, elements: number]>> = {
  0: [4, 1], // F32
  1: [2, 1], // F16
  2: [18, 32], // Q4_0
  3: [20, 32], // Q4_1
  6: [22, 32], // Q5_0
  7: [24, 32], // Q5_1
  8: [34, 32], // Q8_0
  10: [84, 256], // Q2_K
  11: [110, 256], // Q3_K
  12: [144, 256], // Q4_K
  13: [176, 256], // Q5_K
  14: [210, 256], // Q6_K
  15: [292, 256], // Q8_K
  30: [2, 1], // BF16
};

/** Reading ran past the end of the file where the header up to there looked right: the file is cut short. */
class Truncated extends Error {}
/** A value no GGUF holds (a flipped byte): the header is corrupt at `at`. */
class Corrupt extends Error {
  constructor(
    readonly at: number,
    readonly what: string,
  ) {
    super(what);
  }
}

/** The longest a metadata key may be (the GGUF specification), and a tensor name (llama.cpp's GGML_MAX_NAME, less its NUL). */
const MAX_KEY_BYTES = 65_535;
const MAX_TENSOR_NAME_BYTES = 63;
/**
 * A string or array longer than the rest of the file is a file cut short when its length is
 * one a model could have (chat templates are kilobytes, vocabularies some 100,000 tokens),
 * and a corrupt length beyond these.
 */
const PLAUSIBLE_STRING_BYTES = 1 << 24;
const PLAUSIBLE_ARRAY_ITEMS = 1 << 24;
/** No tensor of a real model has a dimension of more elements than this. */
const PLAUSIBLE_DIMENSION = 2 ** 32;
/** llama.cpp has a few dozen tensor types; a type number beyond this is garbage. */
const PLAUSIBLE_TENSOR_TYPE = 255;

/** Reads a GGUF's metadata and tensor table sequentially, in chunks. */
class Reader {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;
  pos = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  get remaining(): number {
    return this.size - this.pos;
  }

  private need(bytes: number): Buffer {
    if (this.pos + bytes > this.size) throw new Truncated();
    const from = this.pos - this.bufferStart;
    if (from < 0 || from + bytes > this.buffer.length) {
      this.buffer = Buffer.alloc(Math.max(bytes, 1 << 20));
      const read = readSync(this.fd, this.buffer, 0, this.buffer.length, this.pos);
      this.buffer = this.buffer.subarray(0, read);
      this.bufferStart = this.pos;
      if (read < bytes) throw new Truncated();
    }
    const start = this.pos - this.bufferStart;
    this.pos += bytes;
    return this.buffer.subarray(start, start + bytes);
  }
  u32(): number {
    return this.need(4).readUInt32LE(0);
  }
  u64(): bigint {
    return this.need(8).readBigUInt64LE(0);
  }
  /**
   * A string. Longer than `limit` (a key's or a tensor name's limit) is corrupt; one that
   * runs past the end of the file is a file cut short when its length is plausible, and
   * a corrupt length beyond that.
   */
  string(what: string, limit?: number): string {
    const at = this.pos;
    const length = this.u64();
    const tooLong = (why: string): Corrupt => new Corrupt(at, `${what} is ${length} bytes long, ${why}`);
    if (limit !== undefined && length > BigInt(limit)) throw tooLong(length > BigInt(this.remaining) ? `more than a file of ${this.size} bytes can hold` : `more than the ${limit} allowed`);
    if (length > BigInt(this.remaining) && length > BigInt(PLAUSIBLE_STRING_BYTES)) throw tooLong(`more than a file of ${this.size} bytes can hold`);
    return this.need(Number(length)).toString('utf8');
  }
  skip(bytes: number): void {
    if (this.pos + bytes > this.size) throw new Truncated();
    this.pos += bytes;
  }
}

const SCALAR_BYTES: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** Skips a metadata value of `key`; returns it when it is a u32 (general.alignment). */
function skipValue(reader: Reader, key: string, typeAt: number): number | undefined {
  const type = reader.u32();
  if (type === 8) {
    reader.string(`the value of '${key}'`);
    return undefined;
  }
  if (type === 9) {
    const itemTypeAt = reader.pos;
    const itemType = reader.u32();
    const itemBytes = itemType === 8 ? 8 : SCALAR_BYTES[itemType];
    if (itemBytes === undefined) throw new Corrupt(itemTypeAt, `the array '${key}' has items of an unknown type ${itemType}`);
    const countAt = reader.pos;
    const count = reader.u64();
    if (count * BigInt(itemBytes) > BigInt(reader.remaining)) {
      if (count > BigInt(PLAUSIBLE_ARRAY_ITEMS)) throw new Corrupt(countAt, `the array '${key}' declares ${count} items, more than a file of ${reader.size} bytes can hold`);
      throw new Truncated();
    }
    if (itemType === 8) for (let i = 0n; i < count; i++) reader.string(`item ${i} of '${key}'`);
    else reader.skip(Number(count) * itemBytes);
    return undefined;
  }
  const bytes = SCALAR_BYTES[type];
  if (bytes === undefined) throw new Corrupt(typeAt, `'${key}' has a value of an unknown type ${type}`);
  if (type === 4) return reader.u32();
  reader.skip(bytes);
  return undefined;
}

/** Walks the metadata and tensor table; a reason when the file is cut short or corrupt, else undefined. */
function walk(reader: Reader): string | undefined {
  reader.skip(4); // magic
  const version = versionProblem(reader.u32());
  if (version !== undefined) return version;
  const tensors = reader.u64();
  const entries = reader.u64();
  const counts = countProblem(8, tensors, 'tensors', reader.size) ?? countProblem(16, entries, 'metadata entries', reader.size);
  if (counts !== undefined) return counts;
  let alignment = 32;
  for (let i = 0n; i < entries; i++) {
    const keyAt = reader.pos;
    const key = reader.string(`the key of metadata entry ${i}`, MAX_KEY_BYTES);
    if (key === '') throw new Corrupt(keyAt, `the key of metadata entry ${i} is empty`);
    const value = skipValue(reader, key, reader.pos);
    if (key === 'general.alignment' && value !== undefined && value > 0) alignment = value;
  }
  // llama.cpp requires each tensor's data to follow the one before it (aligned): an offset
  // elsewhere is corrupt. Unknown until a type whose size is not known here.
  let expected: number | undefined = 0;
  for (let i = 0n; i < tensors; i++) {
    const name = reader.string(`the name of tensor ${i}`, MAX_TENSOR_NAME_BYTES);
    const dimsAt = reader.pos;
    const dims = reader.u32();
    if (dims > 4) throw new Corrupt(dimsAt, `tensor '${name}' declares ${dims} dimensions; GGUF allows at most 4`);
    let elements = 1;
    for (let d = 0; d < dims; d++) {
      const at = reader.pos;
      const n = reader.u64();
      if (n > BigInt(PLAUSIBLE_DIMENSION)) throw new Corrupt(at, `tensor '${name}' declares a dimension of ${n} elements`);
      elements *= Number(n);
    }
    const typeAt = reader.pos;
    const type = reader.u32();
    if (type > PLAUSIBLE_TENSOR_TYPE) throw new Corrupt(typeAt, `tensor '${name}' has an unknown data type ${type}`);
    const offsetAt = reader.pos;
    const offset = reader.u64();
    if (expected !== undefined && offset !== BigInt(expected)) {
      throw new Corrupt(offsetAt, `tensor '${name}' says its data begin at byte ${offset} of the data section; they must begin at byte ${expected}`);
    }
    const sizes = TYPE_SIZES[type];
    expected = expected === undefined || sizes === undefined ? undefined : expected + Math.ceil((Math.ceil(elements / sizes[1]) * sizes[0]) / alignment) * alignment;
  }
  const dataStart = Math.ceil(reader.pos / alignment) * alignment;
  return expected !== undefined && dataStart + expected > reader.size ? cutShort(reader.size) : undefined;
}

/**
 * Whether a GGUF whose first bytes looked right is cut short (ends before its metadata,
 * tensor table or tensor data do) or has a corrupt header (a count, length, type or offset
 * no GGUF holds): walks the file's structure (only after llama.cpp refused it). A reason,
 * or undefined when the file is whole and sound as far as can be told.
 */
export function ggufStructureProblem(path: string): string | undefined {
  let fd: number;
  let size: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) return undefined;
    size = stats.size;
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return walk(new Reader(fd, size));
  } catch (error) {
    if (error instanceof Truncated) return cutShort(size);
    if (error instanceof Corrupt) return corruptAt(error.at, error.what);
    return undefined;
  } finally {
    closeSync(fd);
  }
}
