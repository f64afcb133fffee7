import { configErrorFromZod } from '../config/zod-error.js';
import { AuditConfigSchema, type AuditConfigInput } from './audit-config.js';
import type { FileAuditSink } from './file-audit-sink.js';
import { startFileAuditSink, type StartAuditSinkOptions } from './start-audit-sink.js';

export type OpenAuditSinkOptions = StartAuditSinkOptions;

/**
 * Opens (or continues) the audit log described by the `audit:` config section. Repairs a torn
 * last line and records `audit.recovered` when the previous run did not stop cleanly. Throws
 * ConfigError for a bad section or signing key, AuditCorruptError when the log's last line is
 * not a valid record.
 */
export async function openAuditSink(config: AuditConfigInput, options: OpenAuditSinkOptions = {}): Promise<FileAuditSink> {
  const parsed = AuditConfigSchema.safeParse(config);
  if (!parsed.success) throw configErrorFromZod(parsed.error, options.configFile ?? 'config', { schema: AuditConfigSchema, input: config });
  return startFileAuditSink(parsed.data, options);
}
