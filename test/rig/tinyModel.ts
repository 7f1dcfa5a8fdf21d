/**
 * A deterministic generator for a tiny but valid llama GGUF model (GGUF v3).
 *
 * The weights are pseudo-random (seeded), so the model writes gibberish, but
 * llama.cpp loads it and generates with it like any real model: that is all the
 * backend tests need. Shapes follow ../shared/MACHINE-NOTES.md (2 layers,
 * embedding 64, 4 heads, feed-forward 128, context 2048, SPM vocabulary with the
 * 256 byte tokens, ChatML tokens and a ChatML `tokenizer.chat_template`).
 *
 * Options can drop metadata keys or change the seed to make broken or different
 * models for the failure tests; `writeTruncatedCopy` makes a corrupt file.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { seededRandom } from '../helpers/random';

export interface TinyModelOptions {
  /** Seed of the weights (different seeds give different outputs). Default 1234. */
  readonly seed?: number;
  /** Metadata keys to leave out (e.g. `llama.feed_forward_length`, which makes llama.cpp abort). */
  readonly omitKeys?: readonly string[];
  /** Leave out `tokenizer.chat_template`. */
  readonly withoutChatTemplate?: boolean;
  /** Standard deviation-ish scale of the random weights. Default 0.5. */
  readonly weightScale?: number;
  /** Shape (defaults: the verified tiny shape). Bigger shapes make benchmarks less dominated by overheads. */
  readonly embeddingLength?: number;
  readonly blockCount?: number;
  readonly headCount?: number;
  readonly feedForwardLength?: number;
}

interface Shape {
  readonly embd: number;
  readonly heads: number;
  readonly ff: number;
  readonly layers: number;
}

function shapeOf(options: TinyModelOptions): Shape {
  const shape = { embd: options.embeddingLength ?? EMBD, heads: options.headCount ?? HEADS, ff: options.feedForwardLength ?? FF, layers: options.blockCount ?? LAYERS };
  if (shape.embd % shape.heads !== 0) throw new Error(`embeddingLength ${shape.embd} must be a multiple of headCount ${shape.heads}`);
  return shape;
}

const EMBD = 64;
const HEADS = 4;
const FF = 128;
const LAYERS = 2;
const CTX = 2048;
/** Index after the specials and the 256 byte tokens (see buildVocabulary). */
const BYTE_TOKENS_END = 3 + 256;

/** ChatML, as Qwen and many others ship it; node-llama-cpp recognises it. */
const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const enum GgufType {
  Uint32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  Uint64 = 10,
}

type MetaValue =
  | { readonly type: 'u32'; readonly value: number }
  | { readonly type: 'f32'; readonly value: number }
  | { readonly type: 'str'; readonly value: string }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'str[]'; readonly value: readonly string[] }
  | { readonly type: 'f32[]'; readonly value: readonly number[] }
  | { readonly type: 'i32[]'; readonly value: readonly number[] };

interface Vocabulary {
  readonly tokens: string[];
  readonly scores: number[];
  readonly types: number[];
}

/** SPM vocabulary: specials, the 256 byte tokens (type 6), ChatML, characters and a few words. */
function buildVocabulary(): Vocabulary {
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  const add = (token: string, type: number, score = 0): void => {
    if (tokens.includes(token)) return;
    tokens.push(token);
    types.push(type);
    scores.push(score);
  };
  add('<unk>', 2);
  add('<s>', 3);
  add('</s>', 3);
  for (let b = 0; b < 256; b++) add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, 6);
  add('<|im_start|>', 3);
  add('<|im_end|>', 3);
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?\'"-()[]{}_/';
  add('\u2581', 1, -1);
  for (const c of chars) add(c, 1, -2);
  const words = ['the', 'a', 'and', 'of', 'to', 'is', 'in', 'it', 'you', 'that', 'yes', 'no', 'text', 'word', 'chain', 'step', 'user', 'system', 'assistant', 'positive', 'negative', 'neutral', 'summary', 'answer'];
  for (const w of words) {
    add(`\u2581${w}`, 1, -0.5);
    add(w, 1, -0.6);
  }
  // Sub-pieces so the SPM merges can reach the words above.
  for (const w of words) for (let i = 2; i < w.length; i++) add(w.slice(0, i), 1, -1.5);
  return { tokens, scores, types };
}

interface TensorSpec {
  readonly name: string;
  /** GGUF order: ne0 (innermost) first. */
  readonly dims: readonly number[];
  /** Norm weights are ones (random norms make the activations explode). */
  readonly ones?: boolean;
}

function tensorSpecs(vocabSize: number, { embd: EMBD, ff: FF, layers }: Shape): TensorSpec[] {
  const specs: TensorSpec[] = [{ name: 'token_embd.weight', dims: [EMBD, vocabSize] }];
  for (let l = 0; l < layers; l++) {
    specs.push(
      { name: `blk.${l}.attn_norm.weight`, dims: [EMBD], ones: true },
      { name: `blk.${l}.attn_q.weight`, dims: [EMBD, EMBD] },
      { name: `blk.${l}.attn_k.weight`, dims: [EMBD, EMBD] },
      { name: `blk.${l}.attn_v.weight`, dims: [EMBD, EMBD] },
      { name: `blk.${l}.attn_output.weight`, dims: [EMBD, EMBD] },
      { name: `blk.${l}.ffn_norm.weight`, dims: [EMBD], ones: true },
      { name: `blk.${l}.ffn_gate.weight`, dims: [EMBD, FF] },
      { name: `blk.${l}.ffn_up.weight`, dims: [EMBD, FF] },
      { name: `blk.${l}.ffn_down.weight`, dims: [FF, EMBD] },
    );
  }
  specs.push({ name: 'output_norm.weight', dims: [EMBD], ones: true }, { name: 'output.weight', dims: [EMBD, vocabSize] });
  return specs;
}

function metadata(vocab: Vocabulary, options: TinyModelOptions, { embd: EMBD, heads: HEADS, ff: FF, layers: LAYERS }: Shape): [string, MetaValue][] {
  const imEnd = vocab.tokens.indexOf('<|im_end|>');
  const entries: [string, MetaValue][] = [
    ['general.architecture', { type: 'str', value: 'llama' }],
    ['general.name', { type: 'str', value: 'coi-tiny-test-model' }],
    ['general.alignment', { type: 'u32', value: 32 }],
    ['llama.context_length', { type: 'u32', value: CTX }],
    ['llama.embedding_length', { type: 'u32', value: EMBD }],
    ['llama.block_count', { type: 'u32', value: LAYERS }],
    ['llama.feed_forward_length', { type: 'u32', value: FF }],
    ['llama.attention.head_count', { type: 'u32', value: HEADS }],
    ['llama.attention.head_count_kv', { type: 'u32', value: HEADS }],
    ['llama.rope.dimension_count', { type: 'u32', value: EMBD / HEADS }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-5 }],
    ['tokenizer.ggml.model', { type: 'str', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'str[]', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'f32[]', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: vocab.types }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: imEnd }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
  ];
  if (!options.withoutChatTemplate) entries.push(['tokenizer.chat_template', { type: 'str', value: CHATML_TEMPLATE }]);
  const omitted = new Set(options.omitKeys ?? []);
  return entries.filter(([key]) => !omitted.has(key));
}

/** Little-endian byte writer that grows as needed. */
class ByteWriter {
  private buffer = Buffer.alloc(1 << 16);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const next = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
  u32(value: number): void {
    this.ensure(4);
    this.buffer.writeUInt32LE(value >>> 0, this.length);
    this.length += 4;
  }
  i32(value: number): void {
    this.ensure(4);
    this.buffer.writeInt32LE(value, this.length);
    this.length += 4;
  }
  u64(value: number): void {
    this.ensure(8);
    this.buffer.writeBigUInt64LE(BigInt(value), this.length);
    this.length += 8;
  }
  f32(value: number): void {
    this.ensure(4);
    this.buffer.writeFloatLE(value, this.length);
    this.length += 4;
  }
  u8(value: number): void {
    this.ensure(1);
    this.buffer.writeUInt8(value, this.length);
    this.length += 1;
  }
  str(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.raw(bytes);
  }
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }
  padTo(alignment: number): void {
    while (this.length % alignment !== 0) this.u8(0);
  }
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function writeMetaValue(w: ByteWriter, value: MetaValue): void {
  switch (value.type) {
    case 'u32':
      w.u32(GgufType.Uint32);
      w.u32(value.value);
      return;
    case 'f32':
      w.u32(GgufType.Float32);
      w.f32(value.value);
      return;
    case 'bool':
      w.u32(GgufType.Bool);
      w.u8(value.value ? 1 : 0);
      return;
    case 'str':
      w.u32(GgufType.String);
      w.str(value.value);
      return;
    case 'str[]':
      return writeArray(w, GgufType.String, value.value, (s) => w.str(s));
    case 'f32[]':
      return writeArray(w, GgufType.Float32, value.value, (f) => w.f32(f));
    case 'i32[]':
      return writeArray(w, GgufType.Int32, value.value, (i) => w.i32(i));
  }
}

/** A GGUF array value: its element type, its length, then each element. */
function writeArray<T>(w: ByteWriter, elementType: GgufType, items: readonly T[], writeItem: (item: T) => void): void {
  w.u32(GgufType.Array);
  w.u32(elementType);
  w.u64(items.length);
  for (const item of items) writeItem(item);
}

/** The bytes of a tiny GGUF model. Same options → same bytes. */
export function buildTinyModel(options: TinyModelOptions = {}): Buffer {
  const vocab = buildVocabulary();
  const shape = shapeOf(options);
  const specs = tensorSpecs(vocab.tokens.length, shape);
  const meta = metadata(vocab, options, shape);
  const alignment = 32;
  const random = seededRandom(options.seed ?? 1234);
  const scale = options.weightScale ?? 0.5;

  const w = new ByteWriter();
  w.raw(Buffer.from('GGUF', 'ascii'));
  w.u32(3);
  w.u64(specs.length);
  w.u64(meta.length);
  for (const [key, value] of meta) {
    w.str(key);
    writeMetaValue(w, value);
  }
  let offset = 0;
  const sizes: number[] = [];
  for (const spec of specs) {
    w.str(spec.name);
    w.u32(spec.dims.length);
    for (const d of spec.dims) w.u64(d);
    w.u32(0); // GGML_TYPE_F32
    w.u64(offset);
    const size = spec.dims.reduce((a, b) => a * b, 1) * 4;
    sizes.push(size);
    offset += Math.ceil(size / alignment) * alignment;
  }
  w.padTo(alignment);
  for (const [i, spec] of specs.entries()) {
    const count = (sizes[i] ?? 0) / 4;
    const data = new Float32Array(count);
    const fanIn = spec.dims[0] ?? 1;
    for (let j = 0; j < count; j++) data[j] = spec.ones ? 1 : ((random() * 2 - 1) * scale * 4) / Math.sqrt(fanIn);
    // Quieter logits for <unk>, <s>, </s> and the byte tokens: the output reads as
    // words and characters rather than stray bytes.
    if (spec.name === 'output.weight') for (let j = 0; j < BYTE_TOKENS_END * shape.embd; j++) data[j] = (data[j] ?? 0) * 0.05;
    w.raw(new Uint8Array(data.buffer));
    w.padTo(alignment);
  }
  return w.bytes();
}

/** Writes a tiny model to `file` (creating folders) and returns the path. */
export function writeTinyModel(file: string, options: TinyModelOptions = {}): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, buildTinyModel(options));
  return file;
}

/** Writes the first `fraction` of `source` to `target`: a corrupt (truncated) GGUF. */
export function writeTruncatedCopy(source: string, target: string, fraction = 0.5): string {
  const bytes = readFileSync(source);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, bytes.subarray(0, Math.floor(bytes.length * fraction)));
  return target;
}

let cacheDir: string | undefined;

function processCacheDir(): string {
  if (!cacheDir) {
    const dir = mkdtempSync(join(tmpdir(), 'coi-tiny-model-'));
    cacheDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return cacheDir;
}

/**
 * A tiny model in this process's temporary folder, generated once per process
 * per variant name (tests share it instead of regenerating).
 */
export function tinyModelPath(variant = 'default', options: TinyModelOptions = {}): string {
  const file = join(processCacheDir(), `${variant}.gguf`);
  if (!existsSync(file)) writeTinyModel(file, options);
  return file;
}

/** The folder `tinyModelPath` writes to (for tests that make their own files beside). */
export function tinyModelDir(): string {
  return processCacheDir();
}

export interface ServedTinyModel {
  /** The bytes served: the default tiny model. */
  readonly bytes: Buffer;
  /** `http://127.0.0.1:PORT/path`: every path serves the model. */
  url(path: string): string;
  close(): void;
}

/** The default tiny model served over HTTP on 127.0.0.1 (HEAD answers the headers only), for the download tests. */
export async function serveTinyModel(): Promise<ServedTinyModel> {
  const bytes = readFileSync(tinyModelPath());
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { bytes, url: (path) => `http://127.0.0.1:${port}/${path}`, close: () => server.close() };
}
