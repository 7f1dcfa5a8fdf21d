/**
 * What is wrong with a local GGUF file, said plainly, before (and after) llama.cpp
 * tries it: a FIFO, device or socket is never opened (reading a FIFO blocks), an
 * empty or cut-short file is named as such instead of llama.cpp's or the GGUF
 * reader's internals ("Cannot read properties of undefined", "Invalid GGUF magic").
 */
import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';

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

/**
 * The cheap checks (one stat, at most 24 bytes read): missing, a directory or other
 * non-regular file, empty, shorter than a GGUF header, not starting with "GGUF".
 * Undefined when the file may be a model.
 */
export function modelFileProblem(path: string): ModelFileProblem | undefined {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'unusable', reason: `cannot be read (${code ?? (error as Error).message})` };
  }
  if (stats.isDirectory()) return { kind: 'unusable', reason: 'is a directory, not a GGUF file' };
  if (!stats.isFile()) return { kind: 'unusable', reason: `is not a regular file (${specialKind(stats)})` };
  if (stats.size === 0) return { kind: 'unusable', reason: 'the file is empty' };
  let head: Buffer;
  try {
    head = readHead(path, Math.min(HEADER_BYTES, stats.size));
  } catch (error) {
    return { kind: 'unusable', reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  const magic = head.subarray(0, 4).toString('latin1');
  if (!MAGIC.startsWith(magic)) return { kind: 'unusable', reason: `is not a GGUF file (it does not begin with "${MAGIC}")` };
  if (stats.size < HEADER_BYTES) return { kind: 'unusable', reason: cutShort(stats.size) };
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

/** Bytes per block and elements per block of the common ggml tensor types (others: only the offset is checked). */
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

class Truncated extends Error {}

/** Reads a GGUF's metadata and tensor table sequentially, in chunks. */
class Reader {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;
  pos = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

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
  u64(): number {
    const value = this.need(8).readBigUInt64LE(0);
    if (value > BigInt(this.size) * 8n) throw new Truncated(); // a length or count the file cannot hold
    return Number(value);
  }
  string(): string {
    const length = this.u64();
    return this.need(length).toString('utf8');
  }
  skip(bytes: number): void {
    if (this.pos + bytes > this.size) throw new Truncated();
    this.pos += bytes;
  }
}

const SCALAR_BYTES: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

function skipValue(reader: Reader, type: number): number | string | undefined {
  if (type === 8) return reader.string();
  if (type === 9) {
    const itemType = reader.u32();
    const count = reader.u64();
    if (itemType === 8) for (let i = 0; i < count; i++) reader.string();
    else if (SCALAR_BYTES[itemType] !== undefined) reader.skip(count * SCALAR_BYTES[itemType]);
    else throw new Error(`unknown array type ${itemType}`);
    return undefined;
  }
  const bytes = SCALAR_BYTES[type];
  if (bytes === undefined) throw new Error(`unknown value type ${type}`);
  if (type === 4) return reader.u32();
  reader.skip(bytes);
  return undefined;
}

/**
 * Whether a GGUF whose header looked right ends before its metadata, tensor table or
 * tensor data do: walks the file's structure (only after llama.cpp refused it).
 * A "cut short" reason, or undefined when the file is whole as far as can be told.
 */
export function truncatedGgufProblem(path: string): string | undefined {
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
    const reader = new Reader(fd, size);
    reader.skip(8); // magic, version
    const tensors = reader.u64();
    const entries = reader.u64();
    let alignment = 32;
    for (let i = 0; i < entries; i++) {
      const key = reader.string();
      const value = skipValue(reader, reader.u32());
      if (key === 'general.alignment' && typeof value === 'number' && value > 0) alignment = value;
    }
    let end = 0;
    for (let i = 0; i < tensors; i++) {
      reader.string();
      const dims = reader.u32();
      let elements = 1;
      for (let d = 0; d < dims; d++) elements *= reader.u64();
      const type = reader.u32();
      const offset = reader.u64();
      const sizes = TYPE_SIZES[type];
      end = Math.max(end, offset + (sizes === undefined ? 0 : Math.ceil(elements / sizes[1]) * sizes[0]));
    }
    const dataStart = Math.ceil(reader.pos / alignment) * alignment;
    return dataStart + end > size ? cutShort(size) : undefined;
  } catch (error) {
    return error instanceof Truncated ? cutShort(size) : undefined;
  } finally {
    closeSync(fd);
  }
}
