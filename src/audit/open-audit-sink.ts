import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { ConfigError } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import { silentLogger, type Logger } from '../logging/logger.js';
import { configErrorFromZod } from '../config/zod-error.js';
import { AuditConfigSchema, type AuditConfigInput } from './audit-config.js';
import { loadPrivateKey, readCheckpointFile, type Checkpoint } from './checkpoint.js';
import { FileAuditSink } from './file-audit-sink.js';
import { defaultCheckpointPath } from './log-files.js';
import { createRedactor } from './redactor.js';

export interface OpenAuditSinkOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Names the config file in error messages. */
  readonly configFile?: string;
}

/**
 * Opens (or continues) the audit log described by the `audit:` config section. Repairs a torn
 * last line and records `audit.recovered` when the previous run did not stop cleanly. Throws
 * ConfigError for a bad section or signing key, AuditCorruptError when the log's last line is
 * not a valid record.
 */
export async function openAuditSink(config: AuditConfigInput, options: OpenAuditSinkOptions = {}): Promise<FileAuditSink> {
  const configFile = options.configFile ?? 'config';
  const parsed = AuditConfigSchema.safeParse(config);
  if (!parsed.success) throw configErrorFromZod(parsed.error, configFile);
  const cfg = parsed.data;
  const logger = options.logger ?? silentLogger();
  let signingKey: KeyObject | undefined;
  if (cfg.checkpoint.signingKey) {
    try {
      signingKey = loadPrivateKey(cfg.checkpoint.signingKey);
    } catch (err) {
      throw new ConfigError(`cannot load Ed25519 signing key: ${(err as Error).message}`, {
        file: configFile,
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
    redact: createRedactor({ paths: eventPaths(cfg.redact.paths), patterns: cfg.redact.patterns }),
  });
  sink.start(readPrevious(checkpointPath, logger));
  return sink;
}

/**
 * Policy paths are written relative to the arguments and the result (`card.number`); the sink
 * redacts whole events, so anchor dotted paths under the fields that carry those values.
 * Bare keys (`password`) already match at any depth.
 */
function eventPaths(paths: readonly string[]): string[] {
  return paths.flatMap((p) => (p.includes('.') ? ['args', 'arguments', 'result'].map((root) => `${root}.${p}`) : [p]));
}

function readPrevious(path: string, logger: Logger): Checkpoint | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return readCheckpointFile(path);
  } catch (err) {
    logger.error({ err, file: path }, 'audit: previous checkpoint unreadable; starting without it');
    return undefined;
  }
}
