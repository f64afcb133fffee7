import type { ControlClient } from '../control/control-client.js';
import { grantMatchesArguments } from './grant-arguments.js';
import { describeGrantScope, renderApprovalCard, terminalSafe, type PendingWire } from './approval-display.js';
import { fitToColumns } from './fit-terminal-width.js';
import type { Grant } from './approval-types.js';

/**
 * `stale`: the request a deny reason or a number of minutes was being typed for was answered
 * elsewhere, withdrawn or timed out; what is typed now belongs to it, until Enter or Esc.
 */
type Mode = 'idle' | 'choose' | 'reason' | 'minutes' | 'stale' | 'sending';

/** Why the console stopped: `q`, Ctrl-C (a key in raw mode, or SIGINT), or the end of its input. */
export type QuitReason = 'quit' | 'interrupted' | 'input_ended';

export interface ConsoleIo {
  readonly out: NodeJS.WritableStream;
  readonly clock: () => number;
  /** Called once per new request (bell is written by the console itself). */
  readonly onNewRequest?: (a: PendingWire) => void;
  /** The terminal's width now (read per card: the window may be resized); undefined when unknown. */
  readonly columns?: () => number | undefined;
  /**
   * Plain lines only (stdout is a pipe or a file, e.g. `warden approve | tee log`): no line
   * clearing or redrawing, no bell, no backspace erasing; the countdown is printed when a card is
   * shown or the queue changes, not redrawn every second.
   */
  readonly plain?: boolean;
  /**
   * Whether keys may answer requests (default true). False when the input is not a terminal: a
   * pipe or file is a script, and `while sleep 2; do echo a; done | warden approve` would allow
   * every request unread. Only `q` and Ctrl-C are taken then (see approve.ts).
   */
  readonly answerKeys?: boolean;
  /** Rings on a new request; default: the bell on `out` (never in plain mode). */
  readonly bell?: () => void;
}

const CLEAR_LINE = '\r\x1b[2K';
const MENU = '[a] allow once  [d] deny  [r] allow & remember N min  [q] quit';
const VIEW_ONLY_MENU = '[q] quit  (input is not a terminal: answer with `warden approvals allow|deny ID`)';
/**
 * How long a card that replaced another, or appeared within this time of a key press, ignores
 * answer keys (restarted by every key typed meanwhile): a double-tapped key or one typed for the
 * previous card (answered, withdrawn or timed out a moment ago) must not answer a request nobody
 * has read yet.
 */
export const SETTLE_MS = 1_000;

/**
 * Refusals after which a request cannot be answered from this console: decided elsewhere, gone,
 * or one this approver may never answer (its own call) or was not shown (another call).
 */
const GONE_HERE: ReadonlySet<string> = new Set(['already_decided', 'not_found', 'self_approval', 'binding_mismatch']);

/**
 * The interactive approver: a queue of pending requests fed by the SSE stream, one shown at a time
 * with a countdown, answered with single keys. Pure over (events, keys) → screen + API calls.
 */
export class ApproverConsole {
  private readonly queue: PendingWire[] = [];
  /** Local deadlines (ms on our clock), from expiresInMs at receipt: immune to clock skew. */
  private readonly deadlines = new Map<string, number>();
  private current: PendingWire | undefined;
  private mode: Mode = 'idle';
  private input = '';
  /** Until when (our clock) answer keys are ignored because the card was just swapped in. */
  private settleUntil = 0;
  /** When the last key was typed (our clock). */
  private lastKeyAt = -Infinity;
  private quitResolve: ((why: QuitReason) => void) | undefined;
  /** Resolves once, with why the console stopped. */
  readonly quit: Promise<QuitReason>;
  /** Whether the last character written ended a line (plain mode starts notices on a new line). */
  private atLineStart = true;
  /** The prompt of the text being typed (plain mode repeats it after a backspace). */
  private prompt = '';
  /** The answer on its way to warden, if one is. */
  private sending: Promise<void> | undefined;

  constructor(
    private readonly client: ControlClient,
    private readonly io: ConsoleIo,
  ) {
    this.quit = new Promise((resolve) => (this.quitResolve = resolve));
  }

  private write(s: string): void {
    if (s.length === 0) return;
    this.atLineStart = s.endsWith('\n');
    this.io.out.write(s);
  }

  /**
   * Where a status line or notice starts: on a terminal the current line is cleared and reused; in
   * plain mode a new line is begun unless one just was (no cursor movement in a pipe or a file).
   */
  private freshLine(): string {
    if (!this.io.plain) return CLEAR_LINE;
    return this.atLineStart ? '' : '\n';
  }

  start(): void {
    this.write('warden approve: waiting for approval requests (q to quit)\n');
  }

  /** A `pending` SSE event. */
  onPending(a: PendingWire): void {
    if (this.deadlines.has(a.id)) return; // replayed on reconnect
    this.deadlines.set(a.id, this.io.clock() + a.expiresInMs);
    this.queue.push(a);
    if (this.io.bell) this.io.bell();
    else if (!this.io.plain) this.write('\x07');
    this.io.onNewRequest?.(a);
    if (this.mode === 'idle') this.showNext();
    else if (this.mode === 'choose') this.status();
  }

  /** A `resolved` SSE event: answered (maybe by someone else), timed out or withdrawn. */
  onResolved(e: { id: string; outcome: string; reason?: string; approver?: string }): void {
    const i = this.queue.findIndex((a) => a.id === e.id);
    if (i >= 0) this.queue.splice(i, 1);
    this.deadlines.delete(e.id);
    // Stale: this card is already gone, and only Enter or Esc moves on (a repeated event must not).
    if (this.current?.id !== e.id || this.mode === 'sending' || this.mode === 'stale') return;
    const why: Record<string, string> = {
      timeout: 'timed out (the call was denied)',
      withdrawn: `was withdrawn${e.reason ? `: ${terminalSafe(e.reason)}` : ''}`,
      allow_once: `was allowed by ${terminalSafe(e.approver ?? 'another approver')}`,
      allow_remember: `was allowed by ${terminalSafe(e.approver ?? 'another approver')}`,
      deny: `was denied by ${terminalSafe(e.approver ?? 'another approver')}`,
    };
    const gone = `→ request ${e.id} ${why[e.outcome] ?? terminalSafe(e.outcome)}`;
    // Cut to the terminal like the card: a withdrawal reason is the agent's text, and one padded
    // to the edge of the screen wrapped into rows of its own (a forged card header, a "who" row).
    const fit = (line: string): string => fitToColumns([line], this.io.columns?.()).lines[0] ?? '';
    if (this.mode === 'reason' || this.mode === 'minutes') {
      // The approver is typing, eyes on the keyboard: a card shown now took the rest of the text
      // as keys once they paused for a second ("…a bad call, also" allowed it with the `a`).
      // The text is thrown away with its request; the next card waits for Enter or Esc.
      this.mode = 'stale';
      this.write('\n');
      this.write(`${this.freshLine()}${fit(gone)}\nwhat you are typing is discarded: press Enter for the next request\n`);
      return;
    }
    this.write(`${this.freshLine()}${fit(`${gone}; moving on`)}\n`);
    this.showNext();
  }

  private showNext(): void {
    const now = this.io.clock();
    // A card that replaces another, or appears while the approver is still typing (the agent
    // sent its next call the moment the last one was allowed), waits before taking answers.
    const settle = this.current !== undefined || now - this.lastKeyAt < SETTLE_MS;
    this.current = this.queue.shift();
    this.settleUntil = settle ? now + SETTLE_MS : 0;
    this.input = '';
    if (!this.current) {
      this.mode = 'idle';
      this.write('waiting for approval requests…\n');
      return;
    }
    this.mode = 'choose';
    // No line of the card may wrap: a wrapped row of agent text could pass for one of its fields.
    const menu = this.io.answerKeys === false ? [VIEW_ONLY_MENU] : [MENU, rememberScopeLine(this.current)];
    const card = fitToColumns([...renderApprovalCard(this.current, ''), ...menu], this.io.columns?.());
    if (card.cut) card.lines.push(...fitToColumns([`(cut to fit; in full: \`warden approvals show ${terminalSafe(this.current.id)}\`)`], this.io.columns?.()).lines);
    this.write(`\n${card.lines.join('\n')}\n`);
    this.status();
  }

  /** Redraws the countdown line (called every second). A pipe or file gets no redraws. */
  tick(): void {
    if (this.mode === 'choose' && !this.io.plain) this.status();
  }

  private status(): void {
    if (!this.current) return;
    const left = Math.max(0, Math.ceil(((this.deadlines.get(this.current.id) ?? 0) - this.io.clock()) / 1000));
    const more = this.queue.length > 0 ? ` · ${this.queue.length} more waiting` : '';
    this.write(`${this.freshLine()}⏳ ${left} s left${more} > `);
  }

  /** Keystrokes (raw mode: one chunk may hold several keys). */
  onKeys(chunk: string): void {
    for (const ch of chunk) this.onKey(ch);
  }

  private onKey(ch: string): void {
    if (ch === '\x03') return this.interrupt(); // Ctrl-C in raw mode: a key, not a signal
    this.lastKeyAt = this.io.clock();
    // Fail closed: input that is not a terminal answers nothing (see ConsoleIo.answerKeys).
    if (this.io.answerKeys === false) {
      if (ch === 'q') this.stop();
      return;
    }
    if (this.mode === 'choose') return this.onChoice(ch);
    if (this.mode === 'reason' || this.mode === 'minutes') return this.onTextKey(ch);
    if (this.mode === 'stale') {
      if (ch === '\r' || ch === '\n' || ch === '\x1b') this.showNext();
      return;
    }
    // q also works while an answer is in flight: the answer is already on its way.
    if ((this.mode === 'idle' || this.mode === 'sending') && ch === 'q') this.stop();
  }

  private onChoice(ch: string): void {
    const now = this.io.clock();
    if (ch !== 'q' && now < this.settleUntil) {
      // Fail safe: a key that may have been meant for the previous card answers nothing. Each
      // one restarts the wait, so someone still typing (a deny reason for a card that was just
      // withdrawn) answers nothing until they pause.
      this.settleUntil = now + SETTLE_MS;
      if (ch === 'a' || ch === 'd' || ch === 'r') this.write(`${this.freshLine()}new request shown: read it, then answer > `);
      return;
    }
    if (ch === 'a') this.send('allow', {});
    else if (ch === 'd') {
      this.mode = 'reason';
      this.showPrompt('deny reason (Enter to skip, Esc to go back): ');
    } else if (ch === 'r') {
      this.mode = 'minutes';
      const a = this.current;
      const scope = a ? ` ${describeGrantScope(scopeOf(a))};` : '';
      const prompt = `remember for how many minutes? (for${scope} Enter to confirm, Esc to go back): `;
      // Room for the digits typed; a prompt that wraps could not be redrawn in place, so a long
      // scope is named by reference to the card's `[r] covers` line instead.
      const room = this.io.columns?.();
      const fits = !fitToColumns([prompt], room === undefined ? undefined : room - 6).cut;
      this.showPrompt(fits ? prompt : 'remember for how many minutes? (for what [r] covers above; Enter to confirm, Esc to go back): ');
    } else if (ch === 'q') this.stop();
  }

  private onTextKey(ch: string): void {
    if (ch === '\x1b') {
      this.mode = 'choose';
      this.write('\n');
      return this.status();
    }
    if (ch === '\r' || ch === '\n') return this.submitText();
    if (ch === '\x7f' || ch === '\b') {
      if (this.input.length > 0) {
        this.input = this.input.slice(0, -1);
        // A pipe or file cannot erase: the prompt is repeated on a new line with what is left.
        this.write(this.io.plain ? `\n${this.prompt}${this.input}` : '\b \b');
      }
      return;
    }
    const ok = this.mode === 'minutes' ? /^[0-9]$/.test(ch) && this.input.length < 5 : ch >= ' ' && this.input.length < 500;
    if (!ok) return;
    this.input += ch;
    this.write(ch);
  }

  private showPrompt(prompt: string): void {
    this.prompt = prompt;
    this.write(`${this.freshLine()}${prompt}`);
  }

  private submitText(): void {
    if (this.mode === 'reason') return this.send('deny', this.input ? { reason: this.input } : {});
    const minutes = Number(this.input);
    if (!Number.isInteger(minutes) || minutes < 1) {
      this.input = '';
      this.write(`\nenter a whole number of minutes: `);
      return;
    }
    this.send('allow', { rememberMinutes: minutes });
  }

  private send(verb: 'allow' | 'deny', extra: Record<string, unknown>): void {
    const sent = this.answer(verb, extra);
    this.sending = sent;
    void sent.finally(() => {
      if (this.sending === sent) this.sending = undefined;
    });
  }

  /**
   * Resolves once no answer is on its way: quitting (q, or input at its end) right after a key
   * must not exit the process before warden has the answer the approver gave.
   */
  async answersSent(): Promise<void> {
    while (this.sending) await this.sending;
  }

  /**
   * The input ended (stdin closed: a pipe or /dev/null, not a terminal): no answer can be typed any
   * more, so the console stops instead of showing requests nobody can answer, waiting forever.
   */
  inputEnded(): void {
    // The caller says why on stderr (an exit-2 usage error); here only the prompt line is ended.
    if (this.mode !== 'idle') this.write('\n');
    this.quitResolve?.('input_ended');
  }

  private async answer(verb: 'allow' | 'deny', extra: Record<string, unknown>): Promise<void> {
    const a = this.current;
    if (!a) return;
    this.mode = 'sending';
    // Bind the answer to what was shown, so it cannot land on a different call.
    const body = { argsDigest: a.argsDigest, policyHash: a.policyHash, callId: a.callId, ...extra };
    try {
      const res = await this.client.request('POST', `/approvals/${encodeURIComponent(a.id)}/${verb}`, body);
      const err = res.body as { error?: string; grant?: Grant };
      const remembered = err.grant ? `allowed and remembered for ${String(extra.rememberMinutes)} min for ${describeGrantScope(err.grant)}` : 'allowed once (the grant limit is reached; nothing remembered)';
      const done = verb === 'deny' ? 'denied' : extra.rememberMinutes ? remembered : 'allowed once';
      this.write(res.status === 200 ? `\n✔ ${done}\n` : `\n✖ not recorded: ${err.error ?? `HTTP ${res.status}`}\n`);
      if (res.status === 200 || GONE_HERE.has(err.error ?? '')) this.deadlines.delete(a.id);
    } catch (e) {
      this.write(`\n✖ could not reach warden: ${(e as Error).message}\n`);
    }
    // Not recorded and still pending (no `resolved` event took its deadline): it stays first in
    // line and is shown again, or it would wait unseen in warden until it timed out.
    if (this.deadlines.has(a.id)) this.queue.unshift(a);
    this.showNext();
  }

  stop(): void {
    this.write(`${this.freshLine()}bye\n`);
    this.quitResolve?.('quit');
  }

  /**
   * Ctrl-C: a key in raw mode, or SIGINT (approve.ts). Not a quit: the command exits 130, so a
   * wrapper can tell the approver pressing `q` from an interruption.
   */
  interrupt(): void {
    this.write(`${this.freshLine()}interrupted\n`);
    this.quitResolve?.('interrupted');
  }
}

/**
 * The grant [r] would create: this user through this exact agent chain and client, this tool; any
 * arguments for a tool call, the same arguments for a read, prompt fetch, completion or
 * subscription (warden's default when the answer leaves it unsaid, see grantMatchesArguments).
 */
function scopeOf(a: PendingWire): Pick<Grant, 'user' | 'actor' | 'actorIssuer' | 'priorActors' | 'priorActorIssuers' | 'clientId' | 'scope' | 'upstream' | 'tool' | 'argsDigest'> {
  const p = a.principal;
  const argsDigest = grantMatchesArguments(a.action, undefined) ? a.argsDigest : undefined;
  return { user: p.user, actor: p.actor, actorIssuer: p.actorIssuer, priorActors: p.priorActors, priorActorIssuers: p.priorActorIssuers, clientId: p.clientId, scope: 'principal', upstream: a.upstream, tool: a.tool, argsDigest };
}

/** Says under the menu whom [r] covers, so nobody remembers "for everyone" by mistake. */
function rememberScopeLine(a: PendingWire): string {
  return `    [r] covers ${describeGrantScope(scopeOf(a))}`;
}
