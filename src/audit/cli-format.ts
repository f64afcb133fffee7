import type { AuditRecord } from './record-codec.js';
import { terminalJson, terminalText } from './escape-unsafe.js';

const CODES = { red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39], magenta: [35, 39], dim: [2, 22], bold: [1, 22] } as const;
export type Colour = keyof typeof CODES;
export type Paint = (colour: Colour, text: string) => string;

/** Colour only for a TTY and only when NO_COLOR is unset (https://no-color.org). */
export function painter(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Paint {
  const on = stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
  return on ? (c, t) => `\u001b[${CODES[c][0]}m${t}\u001b[${CODES[c][1]}m` : (_c, t) => t;
}

const ACTION_COLOUR: Record<string, Colour> = { allow: 'green', throttle: 'yellow', approve: 'cyan', block: 'red' };

function principalText(p: unknown): string | undefined {
  if (!p || typeof p !== 'object') return undefined;
  const { user, actor } = p as { user?: unknown; actor?: unknown };
  return `${textOf(user)}${typeof actor === 'string' ? ` via ${actor}` : ''}`;
}

/** What a reader prints in place of a value nested too deep for JSON.stringify (the stack). */
export const TOO_DEEP = '[nested too deep to print]';

/** JSON.stringify, or undefined when the value is nested beyond the stack. */
function tryJson(value: unknown, space?: number): string | undefined {
  try {
    return JSON.stringify(value, null, space) ?? 'null';
  } catch {
    return undefined;
  }
}

/**
 * JSON text of a value from the log, or of TOO_DEEP when it is nested beyond the stack. The
 * writer never nests deeper than 32 levels, so only an edited log holds such a value; one such
 * line must not crash the reader and hide every other record with it.
 */
export function printableJson(value: unknown, space?: number): string {
  return tryJson(value, space) ?? JSON.stringify(TOO_DEEP);
}

/**
 * JSON text of a record (or a summary); a field nested too deep is shown as TOO_DEEP and the
 * others as they are, so the record keeps its seq, type and call id.
 */
export function recordJson(r: unknown, space?: number): string {
  const whole = tryJson(r, space);
  if (whole !== undefined) return whole;
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return JSON.stringify(TOO_DEEP);
  // A null-prototype copy: a `__proto__` key of the record stays a plain key.
  const safe = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(r)) safe[k] = tryJson(v) === undefined ? TOO_DEEP : v;
  return JSON.stringify(safe, null, space);
}

/**
 * A value from the log as text: strings as they are, numbers and booleans as String() gives
 * them, anything else as (printable) JSON. Never String() on an object or array: on an array
 * nested 20,000 deep, String() (Array.prototype.join) overflows the stack like JSON.stringify.
 */
export function textOf(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : printableJson(v);
}

/** A record's `ts` as epoch ms; NaN when it is not a string (Date.parse would String() it). */
export function timeOf(ts: unknown): number {
  return typeof ts === 'string' ? Date.parse(ts) : Number.NaN;
}

/** The few fields that tell the story of each event type, as `key=value` text. */
function details(r: AuditRecord, paint: Paint): string[] {
  const out: string[] = [];
  const add = (k: string, v: unknown): void => {
    // Every value printed comes from the log, and through it from upstreams, tokens and people.
    if (v !== undefined && v !== null) out.push(`${k}=${terminalText(typeof v === 'string' ? v : printableJson(v))}`);
  };
  if (typeof r.action === 'string') out.push(paint(ACTION_COLOUR[r.action] ?? 'bold', terminalText(r.action)));
  const who = principalText(r.principal);
  if (who) out.push(terminalText(who));
  // Names as in AuditEventFields (src/audit/events.ts): a name no producer writes would never print.
  for (const k of ['method', 'upstream', 'tool', 'uri', 'prompt', 'score', 'enforced', 'mode', 'approvalId', 'outcome', 'status', 'durationMs', 'resultBytes', 'waitedMs', 'retryAfterMs', 'approved', 'by', 'how', 'reason', 'code', 'message', 'error', 'file', 'policyHash']) {
    if (k === 'enforced' && r.enforced === r.action) continue;
    add(k, r[k]);
  }
  if (Array.isArray(r.rules) && r.rules.length > 0) add('rules', r.rules.map(textOf).join(','));
  return out;
}

/** One human-readable line per record (`warden audit tail`). */
export function formatRecord(r: AuditRecord, paint: Paint): string {
  const typeColour: Colour = r.type === 'audit.recovered' || r.type.endsWith('failed') || r.type === 'call.error' ? 'red' : 'bold';
  const call = typeof r.callId === 'string' ? ` ${paint('cyan', terminalText(r.callId))}` : '';
  return `${paint('dim', terminalText(textOf(r.ts)))} ${paint('dim', `#${r.seq}`)} ${paint(typeColour, terminalText(r.type))}${call} ${details(r, paint).join(' ')}`.trimEnd();
}

/** `show`: one step of a call with its offset from the first step. */
export function formatStep(r: AuditRecord, t0: number, paint: Paint): string {
  const dt = timeOf(r.ts) - t0;
  return `  ${paint('dim', `+${String(dt).padStart(6)} ms`)}  ${paint('bold', terminalText(r.type).padEnd(24))} ${details(r, paint).join(' ')}`.trimEnd();
}

/** Plain fixed-width table; cells come from the log, so unsafe characters are shown escaped. */
export function table(headers: readonly string[], cells: readonly (readonly string[])[]): string {
  const rows = cells.map((r) => r.map(terminalText));
  // A loop, not Math.max(...rows): spreading one argument per row overflows the stack on a log
  // with a few hundred thousand calls (query and stats read logs of any length).
  const widths = headers.map((h) => h.length);
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * Writes `items` as `JSON.stringify(items, null, 2)` would, one item at a time in batches, so a
 * long result is never one string in memory.
 */
/** writeJsonArray for items that come one by one (an array or a stream of them). */
export function writeJsonStream(out: { write(s: string): unknown }, items: Iterable<unknown>): void {
  let batch = '';
  let first = true;
  for (const item of items) {
    // An item nested one level deep is its own pretty JSON indented by two more spaces.
    batch += `${first ? '[\n' : ',\n'}  ${terminalJson(recordJson(item, 2)).replaceAll('\n', '\n  ')}`;
    first = false;
    if (batch.length >= 64 * 1024) {
      out.write(batch);
      batch = '';
    }
  }
  out.write(first ? '[]\n' : `${batch}\n]\n`);
}

export function writeJsonArray(out: { write(s: string): unknown }, items: readonly unknown[]): void {
  if (items.length === 0) {
    out.write('[]\n');
    return;
  }
  let batch = '[\n';
  items.forEach((item, i) => {
    // An item nested one level deep is its own pretty JSON indented by two more spaces.
    batch += `  ${terminalJson(recordJson(item, 2)).replaceAll('\n', '\n  ')}${i < items.length - 1 ? ',\n' : '\n]\n'}`;
    if (batch.length >= 64 * 1024 || i === items.length - 1) {
      out.write(batch);
      batch = '';
    }
  });
}
