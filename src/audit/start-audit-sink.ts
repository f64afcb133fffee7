import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { ConfigError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { AuditConfig } from './audit-config.js';
import { createPublicKey } from 'node:crypto';
import { checkpointSignatureValid, loadPrivateKey, readCheckpointFile } from './checkpoint.js';
import { FileAuditSink, type AuditLogger } from './file-audit-sink.js';
import type { PreviousCheckpoint } from './active-file.js';
import { defaultCheckpointPath } from './log-files.js';
import { createFieldSerializer } from './fast-canonical.js';
import type { RedactRules } from './redact-rules.js';

export interface StartAuditSinkOptions {
  readonly logger?: AuditLogger;
  readonly clock?: Clock;
  /** Names the config file in error messages. */
  readonly configFile?: string;
}

const NOOP_LOGGER: AuditLogger = { error() {}, warn() {} };

/**
 * Starts the sink from an already validated config (see openAuditSink for the parsing entry
 * point). Kept free of zod and pino so a process that only writes audit records starts fast.
 */
export function startFileAuditSink(cfg: AuditConfig, options: StartAuditSinkOptions = {}): FileAuditSink {
  const logger = options.logger ?? NOOP_LOGGER;
  let signingKey: KeyObject | undefined;
  if (cfg.checkpoint.signingKey) {
    try {
      signingKey = loadPrivateKey(cfg.checkpoint.signingKey);
    } catch (err) {
      throw new ConfigError(`cannot load Ed25519 signing key: ${(err as Error).message}`, {
        file: options.configFile ?? 'config',
        keyPath: 'audit.checkpoint.signingKey',
      }, { cause: err });
    }
  }
  const checkpointPath = resolve(cfg.checkpoint.file ?? defaultCheckpointPath(resolve(cfg.file)));
  const sink = new FileAuditSink({
    config: cfg,
    logger,
    clock: options.clock ?? systemClock,
    checkpointPath,
    signingKey,
    serialize: createFieldSerializer(sinkRedactRules(cfg.redact)),
  });
  sink.start(readPrevious(checkpointPath, signingKey, logger));
  return sink;
}

/**
 * The rules the sink redacts records with. Policy paths are written relative to the arguments and
 * the result (`card.number`); the sink redacts whole events, so dotted paths are anchored under
 * the fields that carry those values. Bare keys (`password`) already match at any depth.
 */
export function sinkRedactRules(redact: AuditConfig['redact']): RedactRules {
  const paths = redact.paths.flatMap((p) => (p.includes('.') ? ['args', 'arguments', 'result'].map((root) => `${root}.${p}`) : [p]));
  return { paths, patterns: redact.patterns };
}

/**
 * The checkpoint the previous run left, and whether it can vouch for the log warden is about to
 * continue. One that is missing, unreadable or (with a signing key) not signed by this key
 * cannot: whoever edited the log while warden was stopped could have deleted, broken or forged
 * it, and the next checkpoint warden signs would vouch for the edit. The sink then says so in
 * the chain (audit.recovered) instead of continuing silently.
 */
function readPrevious(path: string, signingKey: KeyObject | undefined, logger: AuditLogger): PreviousCheckpoint {
  if (!existsSync(path)) return { cp: undefined, distrust: 'checkpoint_missing' };
  let cp;
  try {
    cp = readCheckpointFile(path);
  } catch (err) {
    logger.error({ err, file: path }, 'audit: previous checkpoint unreadable; starting without it');
    return { cp: undefined, distrust: 'checkpoint_unreadable' };
  }
  if (signingKey && !checkpointSignatureValid(cp, createPublicKey(signingKey))) {
    logger.error({ file: path }, 'audit: previous checkpoint is not signed by audit.checkpoint.signingKey');
    return { cp, distrust: 'checkpoint_unsigned' };
  }
  return { cp, distrust: undefined };
}
