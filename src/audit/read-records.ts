import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AuditRecord } from './record-codec.js';
import { logSet } from './log-files.js';

/** `--file`, else `WARDEN_AUDIT_FILE`, else `./warden-audit.jsonl`, resolved against cwd. */
export function defaultAuditFile(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  return resolve(cwd, flag ?? env.WARDEN_AUDIT_FILE ?? 'warden-audit.jsonl');
}

/** One active file expands to its rotated set (oldest first); a rotated file stands alone. */
export function expandSet(file: string): string[] {
  const set = logSet(file);
  return set.length > 0 ? set : existsSync(file) ? [file] : [];
}

/**
 * Parses records for reading commands (tail, show, query, stats). Lines that are not records are
 * skipped: reading is not verification (`warden audit verify` is).
 */
export function parseRecords(text: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0 || line[0] !== '{') continue;
    try {
      const r = JSON.parse(line) as AuditRecord;
      if (r && typeof r === 'object' && typeof r.seq === 'number' && typeof r.type === 'string') out.push(r);
    } catch {
      // torn or foreign line: skipped here, reported by verify
    }
  }
  return out;
}

/** All records of a set of files, ordered by seq. */
export function readRecords(files: readonly string[]): AuditRecord[] {
  return files.flatMap((f) => parseRecords(readFileSync(f, 'utf8'))).sort((a, b) => a.seq - b.seq);
}

const RELATIVE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since 1h` / `--until 2026-11-22T10:00:00Z` → epoch ms; undefined when unparseable. */
export function parseTime(value: string, now: number): number | undefined {
  const m = RELATIVE.exec(value.trim());
  if (m) return now - Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
