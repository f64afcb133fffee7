import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { canonicalJson } from '../core/canonical-json.js';
import { openTempExclusive } from '../core/exclusive-temp.js';

/** What the checkpoint asserts: the chain had reached `seq` with `hash`, in file `file`. */
export interface Checkpoint {
  readonly v: 1;
  /** Base name of the file holding record `seq`. */
  readonly file: string;
  readonly seq: number;
  readonly hash: string;
  readonly ts: string;
  /** True when written by a clean close; a start that finds false knows the last run crashed. */
  readonly closed?: boolean;
  /** Fingerprint of the signing public key. */
  readonly keyId?: string;
  /** Base64 Ed25519 signature over the canonical JSON of the other fields. */
  readonly signature?: string;
}

/**
 * Validates a parsed checkpoint. Hand-written rather than zod so the write path (and the crash
 * tests' writer processes) start without loading a schema library.
 */
export function parseCheckpoint(value: unknown): Checkpoint {
  const c = value as Record<string, unknown> | null;
  const bad = (what: string): never => {
    throw new Error(`invalid checkpoint: ${what}`);
  };
  if (c === null || typeof c !== 'object' || Array.isArray(c)) bad('not an object');
  const o = c as Record<string, unknown>;
  if (o.v !== 1) bad('v must be 1');
  if (typeof o.file !== 'string') bad('file must be a string');
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 0) bad('seq must be a non-negative integer');
  if (typeof o.hash !== 'string' || !/^[0-9a-f]{64}$/.test(o.hash)) bad('hash must be 64 hex digits');
  if (typeof o.ts !== 'string') bad('ts must be a string');
  for (const k of ['keyId', 'signature'] as const) if (o[k] !== undefined && typeof o[k] !== 'string') bad(`${k} must be a string`);
  if (o.closed !== undefined && typeof o.closed !== 'boolean') bad('closed must be a boolean');
  return o as unknown as Checkpoint;
}

function signedBytes(cp: Checkpoint): Buffer {
  const { signature: _s, keyId: _k, ...payload } = cp;
  return Buffer.from(canonicalJson(payload));
}

/** Short fingerprint of a public key (sha256 of its SPKI DER, 16 hex chars). */
export function keyFingerprint(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function loadPrivateKey(path: string): KeyObject {
  const key = createPrivateKey(readFileSync(path));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path}: not an Ed25519 private key`);
  return key;
}

export function loadPublicKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(path));
  } catch (err) {
    // OpenSSL's own text ("DECODER routines::unsupported") names neither the file nor the fix.
    // A file system code (ENOENT, EISDIR) says what is wrong; an OpenSSL one (ERR_OSSL_…) does not.
    const code = (err as NodeJS.ErrnoException).code;
    const why = code !== undefined && /^E[A-Z]+$/.test(code) ? code : 'not a PEM public key';
    throw new Error(`${path}: ${why} (expected the Ed25519 public key PEM that warden audit keygen wrote as PREFIX.pub)`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path}: not an Ed25519 public key`);
  return key;
}

/** Adds an Ed25519 signature over the canonical JSON of the checkpoint without signature fields. */
export function signCheckpoint(cp: Checkpoint, key: KeyObject): Checkpoint {
  return { ...cp, keyId: keyFingerprint(key), signature: sign(null, signedBytes(cp), key).toString('base64') };
}

export function checkpointSignatureValid(cp: Checkpoint, key: KeyObject): boolean {
  if (!cp.signature) return false;
  try {
    return verify(null, signedBytes(cp), key, Buffer.from(cp.signature, 'base64'));
  } catch {
    return false;
  }
}

/** Atomic replace: write a temp file next to it, optionally fsync, then rename over. */
export function writeCheckpointFile(path: string, cp: Checkpoint, durable: boolean): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openTempExclusive(tmp, 0o644);
  try {
    writeSync(fd, `${JSON.stringify(cp)}\n`);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** A checkpoint is a few hundred bytes; anything far larger is not one. */
const MAX_CHECKPOINT_BYTES = 64 * 1024;

export function readCheckpointFile(path: string): Checkpoint {
  // Non-blocking open and a regular file only: a FIFO in its place would block the open, a
  // device (/dev/zero) be read forever, and verify (or start-up) would hang instead of failing.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${path}: not a regular file`);
    if (st.size > MAX_CHECKPOINT_BYTES) throw new Error(`${path}: ${st.size} bytes, too large for a checkpoint`);
    return parseCheckpoint(JSON.parse(readFileSync(fd, 'utf8')));
  } finally {
    closeSync(fd);
  }
}
