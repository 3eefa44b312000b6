import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SeedModel } from '../engine/net/seed.js';
import { Engine } from '../engine/wasm.js';
import { fsyncDir, mkdirDurable, writeFileAtomicSync } from '../util/atomic.js';
import { InputError, UserError } from '../util/errors.js';
import type { FeatureSpec } from './features.js';
import {
  coarseSteps,
  type NeuralConfig,
  NeuralForecaster,
  neuralConfigProblem,
  PREDICT_CHUNK,
  seedConfigOf,
  shrinkProblem,
  type TargetTransform,
} from './neural.js';
import { lockForSave } from './save-lock.js';
import { type ScalerJSON, StandardScaler } from './scaler.js';

/**
 * The model directory (format `pcm-neural-forecaster`, version 1; documented in docs/model.md):
 *
 *   model.json              the manifest: format + version, model config, feature spec, scaler, target
 *                           transform, training metadata, and the tensor manifest of the weights file
 *   weights-<sha16>.bin     every parameter and buffer, f32 little-endian, back to back (no padding)
 *   state-<sha16>.bin       (only in a `last` checkpoint) optimizer moments m and v, f32 little-endian
 *
 * The blobs are content-named (first 16 hex digits of their sha256) and written first (temp, fsync,
 * rename); model.json is written last, atomically, and only then are blobs it no longer names removed.
 * A kill at any moment therefore leaves either the previous model.json with its blobs or the new one with
 * its blobs: the directory always loads.
 */
const CHECKPOINT_FORMAT = 'pcm-neural-forecaster';
export const CHECKPOINT_VERSION = 1;
export const MANIFEST = 'model.json';

export interface TensorEntry {
  name: string;
  shape: number[];
  /** Byte offset in the blob. */
  offset: number;
  dtype: 'f32le';
}

export interface BlobRef {
  file: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  created: string;
  name: string;
  model: NeuralConfig;
  feature_spec: FeatureSpec;
  scaler: ScalerJSON;
  target: TargetTransform & { capacity: number };
  training: Record<string, unknown>;
  weights: BlobRef & { tensors: TensorEntry[] };
  /** Resume state (a `last` checkpoint only). */
  train_state?: { state: BlobRef & { tensors: TensorEntry[] }; json: unknown };
}

/** What a checkpoint holds besides the model's own tensors. */
export interface CheckpointMeta {
  name?: string;
  config: NeuralConfig;
  featureSpec: FeatureSpec;
  scaler: StandardScaler;
  target: TargetTransform;
  capacity: number;
  training?: Record<string, unknown>;
}

export interface TrainStateBlob {
  /** Named f32 arrays (e.g. adam.m, adam.v). */
  tensors: Record<string, Float32Array>;
  /** Anything JSON: schedule, epoch, step, RNG state, history. */
  json: unknown;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Pack named f32 arrays into one little-endian blob with its manifest. */
function pack(entries: Array<{ name: string; shape: number[]; data: ArrayLike<number> }>): {
  bytes: Uint8Array;
  tensors: TensorEntry[];
} {
  const total = entries.reduce((s, t) => s + t.data.length, 0);
  const buf = Buffer.alloc(total * 4);
  const tensors: TensorEntry[] = [];
  let off = 0;
  for (const t of entries) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(`checkpoint: ${t.name} has ${t.data.length} values for shape ${t.shape}`);
    tensors.push({ name: t.name, shape: t.shape, offset: off, dtype: 'f32le' });
    for (let i = 0; i < n; i++) buf.writeFloatLE(t.data[i], off + 4 * i);
    off += 4 * n;
  }
  return { bytes: buf, tensors };
}

/** Write a content-named blob (atomic, fsynced); returns its reference. */
function writeBlob(dir: string, prefix: string, bytes: Uint8Array): BlobRef {
  const sha = sha256(bytes);
  const file = `${prefix}-${sha.slice(0, 16)}.bin`;
  writeFileAtomicSync(join(dir, file), bytes);
  return { file, bytes: bytes.length, sha256: sha };
}

/** The model's tensors in ParamStore order, then the BatchNorm buffers. */
function modelTensors(model: SeedModel): Array<{ name: string; shape: number[]; data: Float32Array }> {
  const e = model.e;
  const out = model.store.params.map((p) => ({ name: p.name, shape: p.shape, data: e.f32(p.ptr, p.size) }));
  for (const [name, v] of Object.entries(model.bn.buffers(e))) out.push({ name, shape: [v.length], data: v });
  return out;
}

/**
 * Save a model (and optionally its resume state) into `dir` atomically (see the file comment).
 * Returns the manifest written.
 */
export async function saveCheckpoint(
  dir: string,
  model: SeedModel,
  meta: CheckpointMeta,
  state?: TrainStateBlob,
): Promise<Manifest> {
  await mkdirDurable(dir);
  const release = lockForSave(dir); // clean-up below must not remove another saver's files
  try {
    const w = pack(modelTensors(model));
    const weights = { ...writeBlob(dir, 'weights', w.bytes), tensors: w.tensors };
    let trainState: Manifest['train_state'];
    if (state) {
      const s = pack(
        Object.entries(state.tensors).map(([name, data]) => ({ name, shape: [data.length], data })),
      );
      trainState = { state: { ...writeBlob(dir, 'state', s.bytes), tensors: s.tensors }, json: state.json };
    }
    const manifest: Manifest = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      created: new Date().toISOString(),
      name: meta.name ?? 'neural',
      model: meta.config,
      feature_spec: meta.featureSpec,
      scaler: meta.scaler.toJSON(),
      target: { ...meta.target, capacity: meta.capacity },
      training: meta.training ?? {},
      weights,
      ...(trainState ? { train_state: trainState } : {}),
    };
    writeFileAtomicSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
    // only now drop blobs the manifest no longer names (and temp files of killed saves)
    const keep = new Set([weights.file, trainState?.state.file]);
    for (const f of readdirSync(dir)) {
      const stale = /^(weights|state)-[0-9a-f]{16}\.bin$/.test(f) && !keep.has(f);
      const temp = /^\.((weights|state)-.*|model\.json\..*)\.tmp$/.test(f);
      if (stale || temp) rmSync(join(dir, f), { force: true });
    }
    fsyncDir(dir);
    return manifest;
  } finally {
    release();
  }
}

/** Read and check model.json (format, version, fields). */
export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !exists(dir)) throw new UserError(`model ${dir}: no such directory`);
    throw new UserError(
      `model ${dir}: cannot read ${MANIFEST} (${code === 'ENOENT' ? 'no such file; is this a directory written by pcm train?' : code})`,
    );
  }
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(text) as Partial<Manifest>;
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!m || typeof m !== 'object' || m.format !== CHECKPOINT_FORMAT)
    throw new InputError(
      `${path}: format: expected "${CHECKPOINT_FORMAT}", got ${JSON.stringify(m?.format)}`,
    );
  if (!Number.isInteger(m.version) || (m.version as number) < 1)
    throw new InputError(`${path}: version: expected a positive integer, got ${JSON.stringify(m.version)}`);
  if ((m.version as number) > CHECKPOINT_VERSION)
    throw new InputError(
      `${path}: format version ${m.version} is newer than this pcm reads (${CHECKPOINT_VERSION}); upgrade pcm`,
    );
  const cfg = m.model as NeuralConfig | undefined;
  const problem = cfg && typeof cfg === 'object' ? neuralConfigProblem(cfg) : 'missing';
  if (problem) throw new InputError(`${path}: model: ${problem}`);
  const t = m.target;
  if (t?.kind !== 'delta' || !(t.scale > 0) || !(t.capacity > 0))
    throw new InputError(`${path}: target: expected {kind: "delta", scale > 0, capacity > 0}`);
  if (t.shrink !== undefined) {
    const p = shrinkProblem(t.shrink, cfg!.horizon);
    if (p) throw new InputError(`${path}: target.shrink: ${p}`);
  }
  const fs = m.feature_spec;
  if (!fs || !Array.isArray(fs.names) || typeof fs.timeZone !== 'string' || !Number.isInteger(fs.historyLead))
    throw new InputError(`${path}: feature_spec: expected {names, timeZone, holidayCountry, historyLead}`);
  if (fs.names.length !== cfg!.features)
    throw new InputError(
      `${path}: feature_spec: ${fs.names.length} names but model.features = ${cfg!.features}`,
    );
  if (!m.weights || typeof m.weights.file !== 'string' || !Array.isArray(m.weights.tensors))
    throw new InputError(`${path}: weights: expected {file, bytes, sha256, tensors}`);
  return m as Manifest;
}

/**
 * Store a fitted per-horizon shrinkage (target.shrink) and its fit report (training.shrink) in the model of
 * `dir`: model.json is rewritten atomically; the weights are untouched.
 */
export function writeShrink(dir: string, shrink: number[], report: Record<string, unknown>): Manifest {
  const m = readManifest(dir);
  const p = shrinkProblem(shrink, m.model.horizon);
  if (p) throw new Error(`checkpoint: shrink: ${p}`);
  const out: Manifest = {
    ...m,
    target: { ...m.target, shrink },
    training: { ...m.training, shrink: report },
  };
  writeFileAtomicSync(join(dir, MANIFEST), `${JSON.stringify(out, null, 1)}\n`);
  return out;
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Blob file names written by saveCheckpoint (no directories, no `..`). */
const BLOB_NAME = /^(weights|state)-[0-9a-f]{16}\.bin$/;

/** Read a blob, check its size and sha256, and return its tensors by name. */
function readBlob(
  dir: string,
  ref: BlobRef & { tensors: TensorEntry[] },
  what: string,
): Map<string, Float32Array> {
  // only the names writeBlob produces: a manifest cannot point outside its own directory
  if (typeof ref.file !== 'string' || !BLOB_NAME.test(ref.file))
    throw new InputError(
      `model ${dir}: ${what}: file ${JSON.stringify(String(ref.file).slice(0, 64))} is not a blob name (expected ${what === 'weights' ? 'weights' : 'state'}-<16 hex>.bin in the model directory)`,
    );
  const path = join(dir, ref.file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      `model ${dir}: ${what} file ${ref.file} ${code === 'ENOENT' ? 'is missing' : `cannot be read (${code})`}`,
    );
  }
  if (bytes.length !== ref.bytes)
    throw new InputError(
      `model ${dir}: ${what} file ${ref.file} has ${bytes.length} bytes, the manifest says ${ref.bytes} (truncated or replaced)`,
    );
  if (sha256(bytes) !== ref.sha256)
    throw new InputError(
      `model ${dir}: ${what} file ${ref.file} is corrupt (sha256 does not match the manifest)`,
    );
  const out = new Map<string, Float32Array>();
  for (const t of ref.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.dtype !== 'f32le' || t.offset < 0 || t.offset + 4 * n > bytes.length)
      throw new InputError(`model ${dir}: ${what} tensor ${t.name}: bad dtype or offset`);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = bytes.readFloatLE(t.offset + 4 * i);
    out.set(t.name, v);
  }
  return out;
}

/** Copy checkpoint tensors into a model built with the manifest's config (names and shapes must match). */
export function loadWeightsInto(model: SeedModel, dir: string, m: Manifest): void {
  copyWeights(model, dir, readBlob(dir, m.weights, 'weights'));
}

function copyWeights(model: SeedModel, dir: string, tensors: Map<string, Float32Array>): void {
  for (const t of modelTensors(model)) {
    const v = tensors.get(t.name);
    if (!v) throw new InputError(`model ${dir}: weights: tensor ${t.name} is missing`);
    if (v.length !== t.data.length)
      throw new InputError(
        `model ${dir}: weights: tensor ${t.name} has ${v.length} values, the model needs ${t.data.length}`,
      );
    t.data.set(v);
  }
}

/** The resume state of a `last` checkpoint, or null when it has none. */
export function readTrainState(dir: string, m: Manifest): TrainStateBlob | null {
  if (!m.train_state) return null;
  const t = readBlob(dir, m.train_state.state, 'train state');
  return { tensors: Object.fromEntries(t), json: m.train_state.json };
}

/** Reads of a model directory a concurrent save may race before giving up. */
const LOAD_ATTEMPTS = 5;

/**
 * The manifest and the weights it names. A trainer may save into the directory while we read: when the
 * weights named by the manifest we read are gone or changed and the manifest on disk now names other
 * weights, that save completed in between — read again (a few times) instead of failing.
 */
export function readWeights(dir: string): { manifest: Manifest; weights: Map<string, Float32Array> } {
  let m = readManifest(dir);
  for (let attempt = 1; ; attempt++) {
    try {
      return { manifest: m, weights: readBlob(dir, m.weights, 'weights') };
    } catch (e) {
      if (attempt >= LOAD_ATTEMPTS || !(e instanceof InputError)) throw e;
      const before = m.weights.sha256;
      try {
        m = readManifest(dir);
      } catch {
        throw e;
      }
      if (m.weights.sha256 === before) throw e;
    }
  }
}

/** Build a NeuralForecaster from a model directory (safe against a save landing meanwhile: readWeights). */
export function loadNeural(dir: string, opts: { chunk?: number } = {}): NeuralForecaster {
  const { manifest: m, weights } = readWeights(dir);
  const cfg = m.model;
  const scaler = StandardScaler.fromJSON(m.scaler, `${dir}/${MANIFEST}: scaler`);
  if (scaler.F !== cfg.features)
    throw new InputError(
      `${dir}/${MANIFEST}: scaler has ${scaler.F} columns, model.features = ${cfg.features}`,
    );
  const e = new Engine();
  const model = new SeedModel(e, seedConfigOf(cfg), opts.chunk ?? PREDICT_CHUNK, coarseSteps(cfg));
  copyWeights(model, dir, weights);
  return new NeuralForecaster(
    { name: m.name, config: cfg, featureSpec: m.feature_spec, scaler, target: m.target },
    { model },
  );
}
