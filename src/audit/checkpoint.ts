import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { canonicalJson } from '../core/canonical-json.js';

/** What the checkpoint asserts: the chain had reached `seq` with `hash`, in file `file`. */
export const CheckpointSchema = z.object({
  v: z.literal(1),
  file: z.string(),
  seq: z.number().int().nonnegative(),
  hash: z.string(),
  ts: z.string(),
  /** True when written by a clean close; a start that finds false knows the last run crashed. */
  closed: z.boolean().optional(),
  keyId: z.string().optional(),
  signature: z.string().optional(),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

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
  const key = createPublicKey(readFileSync(path));
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
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, `${JSON.stringify(cp)}\n`);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readCheckpointFile(path: string): Checkpoint {
  return CheckpointSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}
