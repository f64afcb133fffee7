import { z } from 'zod';
import { redactionPatternProblem } from './pattern-probe.js';

/**
 * A user-supplied regex must compile, must not backtrack catastrophically (the policy engine's
 * check), and must not take super-linear time on long strings: it runs on every argument before
 * the call is written (pattern-probe.ts).
 */
const SafePatternSchema = z.string().min(1).superRefine((src, ctx) => {
  const problem = redactionPatternProblem(src);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const RedactConfigSchema = z.strictObject({
  /** Key paths whose values are replaced: `password`, `card.number`, `*.secret`, `**.token`. */
  paths: z.array(z.string().min(1)).default([]),
  /** Regexes applied to every string value; matches are replaced by `[REDACTED]`. */
  patterns: z.array(SafePatternSchema).default([]),
});
export type RedactConfig = z.infer<typeof RedactConfigSchema>;

export const FsyncPolicySchema = z.union([
  z.literal('never'),
  z.literal('always'),
  z.strictObject({ everyRecords: z.number().int().positive() }),
]);
export type FsyncPolicy = z.infer<typeof FsyncPolicySchema>;

export const CheckpointConfigSchema = z.strictObject({
  /** Where the checkpoint lives; default `<log dir>/<log base>.checkpoint.json`. */
  file: z.string().min(1).optional(),
  /** Rewrite the checkpoint after this many records (and on rotation and close). */
  everyRecords: z.number().int().positive().default(1000),
  /**
   * Also rewrite it at most this many ms after a record it does not cover was written (a timer,
   * off the call path); 0 turns the timer off. Default 1000 (applied by the sink, so configs
   * built in code without it keep working).
   */
  maxDelayMs: z.number().int().min(0).max(3_600_000).optional(),
  /** Path to an Ed25519 private key (PEM, PKCS#8) used to sign the checkpoint. */
  signingKey: z.string().min(1).optional(),
});
export type CheckpointConfig = z.infer<typeof CheckpointConfigSchema>;

/** The `audit:` section of warden.yaml. */
export const AuditConfigSchema = z.strictObject({
  file: z.string().min(1).default('./warden-audit.jsonl'),
  /** Rotate when the active file would exceed this size. */
  maxFileBytes: z.number().int().min(1024).default(256 * 1024 * 1024),
  fsync: FsyncPolicySchema.default('never'),
  checkpoint: CheckpointConfigSchema.default({ everyRecords: 1000 }),
  redact: RedactConfigSchema.default({ paths: [], patterns: [] }),
});
export type AuditConfig = z.infer<typeof AuditConfigSchema>;
/** What callers may pass before defaults are applied. */
export type AuditConfigInput = z.input<typeof AuditConfigSchema>;
