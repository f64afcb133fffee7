import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import type { Logger } from '../../src/logging/logger.js';
import { WardenError } from '../../src/core/errors.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/src/cli/main.js');

/** Process tests run the compiled code: fail with a clear message when it was not built. */
export function requireBuild(): void {
  if (!existsSync(join(ROOT, 'dist/src/audit/open-audit-sink.js')) || !existsSync(CLI)) {
    throw new Error('build first: npx tsc -p tsconfig.json');
  }
}

export function tempDir(prefix = 'warden-audit-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Deterministic PRNG (mulberry32) so a failing seed can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function int(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** A pino logger whose records land in an array, to assert on levels and messages. */
export function captureLogger(): { logger: Logger; lines: { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

/** A controllable clock. */
export function manualClock(start = Date.UTC(2026, 10, 22, 12, 0, 0)): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** The WardenError code `fn` throws (`not-a-warden-error` for anything else), or undefined. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof WardenError ? err.code : 'not-a-warden-error';
  }
  return undefined;
}
