import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { WARDEN_MAIN } from './demo-setup.js';

/** The parts of an audit record the demo prints. */
export interface AuditRecord {
  readonly seq: number;
  readonly type: string;
  readonly callId?: string;
  readonly tool?: string;
  readonly action?: string;
  readonly enforced?: string;
  readonly score?: number;
  readonly rules?: readonly string[];
  readonly reasons?: readonly { code: string; weight?: number }[];
  readonly hidden?: boolean;
  readonly [key: string]: unknown;
}

/**
 * Reads the audit log as the demo goes. Every decision record is on disk before the call is
 * answered (write-ahead), so after a call returns its `call.decision` record is already there.
 */
export class AuditReader {
  private seen = 0;

  constructor(private readonly file: string) {}

  all(): AuditRecord[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as AuditRecord);
  }

  /** Records written since the last call of `next()`. */
  next(): AuditRecord[] {
    const records = this.all();
    const fresh = records.filter((r) => r.seq > this.seen);
    if (records.length > 0) this.seen = Math.max(this.seen, ...records.map((r) => r.seq));
    return fresh;
  }
}

/** `score 30 · sensitivity.high(25) novelty.tool(5) · rules approve-large-payments` */
export function explain(d: AuditRecord | undefined): string {
  if (!d) return '(no decision record)';
  if (d.hidden) return 'hidden from this principal';
  const reasons = (d.reasons ?? []).map((r) => (r.weight ? `${r.code}(${r.weight})` : r.code)).join(' ');
  const rules = d.rules && d.rules.length > 0 ? ` · rules ${d.rules.join(', ')}` : '';
  return `score ${d.score ?? '?'} · ${reasons || 'no reasons'}${rules}`;
}

/** Runs a warden CLI command and returns its exit code and output. */
export function runWarden(args: readonly string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WARDEN_MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}
