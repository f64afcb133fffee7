import { randomUUID } from 'node:crypto';
import type { AuditSink } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { Clock } from '../core/clock.js';
import type { Sensitivity } from '../core/decision.js';
import { WardenError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { SessionInfo } from '../core/tool-call.js';
import type { Logger } from '../logging/logger.js';
import type { StateStore } from '../state/state-store.js';
import type { EvaluateResult, RegistryEntry, SubjectEffect } from './registry-entry.js';
import { CoalescingSaver } from './coalescing-saver.js';
import type { RegistryFile } from './registry-file.js';
import { applyClaimOverrides, entryAffects, pickStepUp } from './registry-rules.js';
import { repeatsEntry } from './repeated-entry.js';
import { describeSubject, indexKeyOf, principalIndexKeys, type SubjectClaims, type SubjectMatch } from './subject.js';

const OK: EvaluateResult = Object.freeze({ kind: 'ok' });
const KEY_PREFIX = 'events:entry:';

/** The parts of EventsConfig the registry itself needs (EventsConfig satisfies it). */
export interface RegistrySettings {
  readonly subjects: SubjectClaims;
  readonly stepUp: { readonly minSensitivity: Sensitivity; readonly action: 'approve' | 'block' };
  readonly retentionSeconds: number;
}

export const DEFAULT_REGISTRY_SETTINGS: RegistrySettings = {
  subjects: { emailClaim: 'email', deviceClaim: 'device_id' },
  stepUp: { minSensitivity: 'high', action: 'approve' },
  retentionSeconds: 86_400,
};

export interface SubjectRegistryDeps {
  readonly settings?: RegistrySettings;
  readonly store: StateStore;
  readonly audit: AuditSink;
  readonly clock: Clock;
  /** Open warden sessions, so hooks learn which sessions to close. */
  readonly sessions?: { list(): readonly SessionInfo[] };
  /** Wired by the integrator to approvals.withdrawWhere + proxy closeSession + identity.invalidate. */
  readonly onRevoke?: (effect: SubjectEffect) => void | Promise<void>;
  /** Wired by the integrator to identity.invalidate (cached verifications of the subject). */
  readonly onClaimsChange?: (effect: SubjectEffect) => void | Promise<void>;
  /** A step-up came into force for the subject (standing resource subscriptions are re-judged). */
  readonly onStepUp?: (effect: SubjectEffect) => void | Promise<void>;
  readonly logger?: Logger;
  /** Where entries outlive the process (`state.revocationsFile`); without it they last until exit. */
  readonly file?: RegistryFile;
}

export interface EffectInput {
  readonly at: number;
  readonly eventId: string;
  readonly reason: string;
}

/** An entry put in force. */
export interface Stored {
  readonly entry: RegistryEntry;
  /** False when the entry is in force but could not be written to the revocations file (it ends with this process). */
  readonly saved: boolean;
}

export interface Revocation extends Stored {
  readonly sessionIds: readonly string[];
}

/** Target of an operator revocation: exactly one of user, session (warden session id) or agent. */
export type ManualTarget = { readonly user: string } | { readonly session: string } | { readonly agent: string };

/**
 * Standing revocations, step-ups and claim overrides per subject. `evaluate` runs on every tool
 * call: with no entries it is one comparison; otherwise a few Map lookups keyed by the caller's
 * identifiers. Entries are written through to the StateStore and expire after the retention.
 */
export class SubjectRegistry {
  private readonly index = new Map<string, RegistryEntry[]>();
  private readonly ids = new Set<string>();
  private count = 0;
  private lastPrune = Number.NEGATIVE_INFINITY;
  private readonly settings: RegistrySettings;
  /** Every write of the revocations file goes through it: one at a time, bursts share one. */
  private readonly saver: CoalescingSaver;

  constructor(private readonly deps: SubjectRegistryDeps) {
    this.settings = deps.settings ?? DEFAULT_REGISTRY_SETTINGS;
    this.saver = new CoalescingSaver(() => this.saveFile());
  }

  /** Loads entries written by earlier runs or other replicas from the StateStore. */
  async load(): Promise<void> {
    for (const entry of this.deps.file?.load(this.deps.clock()) ?? []) this.adopt(entry);
    for (const key of await this.deps.store.keys(KEY_PREFIX)) {
      const entry = await this.deps.store.get<RegistryEntry>(key);
      if (entry) this.adopt(entry);
    }
  }

  /**
   * Looks at the revocations file every `intervalMs` and takes in entries other wardens sharing
   * it wrote (an operator revoked through another warden's control API). Returns a stop function.
   */
  followFile(intervalMs: number): () => void {
    const file = this.deps.file;
    if (!file) return () => undefined;
    const timer = setInterval(() => {
      try {
        const now = this.deps.clock();
        const onDisk = file.poll(now);
        if (!onDisk) return;
        this.adoptFromOthers(onDisk);
        // Two wardens saving at the same moment both merge with the file they read, and the
        // later rename wins: an entry of the other can go missing. Whoever misses its own puts
        // it back (merged again), so the file converges on the union.
        const there = new Set(onDisk.map((e) => e.id));
        if (this.list(now).some((e) => !there.has(e.id))) {
          void this.saver.request().then((err) => {
            if (err) this.deps.logger?.error({ err, file: file.path }, 'could not write back entries missing from the revocations file');
          });
        }
      } catch (err) {
        // Keep what is in force here; a broken file is reported, and rewritten whole on the next change.
        this.deps.logger?.error({ err, file: file.path }, 'revocations file unreadable; entries already loaded stay in force');
      }
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * Re-loads from the StateStore every `intervalMs` so entries written by other replicas apply
   * here too. Returns a stop function. Not needed with a single warden.
   */
  syncEvery(intervalMs: number): () => void {
    const timer = setInterval(() => {
      this.load().catch((err: unknown) => this.deps.logger?.error({ err }, 'subject registry sync failed'));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Per-call check. Revocation wins over step-up; the strictest step-up wins among several. */
  evaluate(principal: Principal, sessionId: string | undefined, now: number): EvaluateResult {
    if (this.count === 0) return OK;
    let stepUp: Extract<EvaluateResult, { kind: 'step_up' }> | undefined;
    for (const entry of this.candidates(principal, sessionId, now)) {
      if (entry.kind === 'revoke') return { kind: 'revoked', eventId: entry.eventId, reason: entry.reason };
      if (entry.kind === 'step_up') stepUp = pickStepUp(stepUp, entry);
    }
    return stepUp ?? OK;
  }

  /**
   * Whether the caller is revoked as it presents itself or as claim overrides make it (an address
   * a claims change gave it, then revoked by that address), as the guard judges its tool calls
   * (subjectVerdict): what refuses its HTTP requests and its remembered grants must agree.
   */
  isRevoked(principal: Principal, sessionId: string | undefined, now: number): boolean {
    if (this.evaluate(principal, sessionId, now).kind === 'revoked') return true;
    const effective = this.effectivePrincipal(principal, sessionId, now);
    return effective !== principal && this.evaluate(effective, sessionId, now).kind === 'revoked';
  }

  /**
   * The entries in force for a caller now, as one value compared by `===` (their ids, sorted):
   * the caller as judged (claim overrides applied) and as its token presents it, so revocations,
   * step-ups and claims changes are all found however they matched. Read when a call asks for an
   * approval and again when it is answered "allow and remember": any difference is a security
   * event that came after the call was judged. Not on the per-call path.
   */
  standingOf(judgedAs: Principal, presented: Principal, sessionId: string | undefined, now: number): string {
    if (this.count === 0) return '';
    const ids = new Set<string>();
    for (const entry of this.candidates(judgedAs, sessionId, now)) ids.add(entry.id);
    if (presented !== judgedAs) for (const entry of this.candidates(presented, sessionId, now)) ids.add(entry.id);
    return [...ids].sort().join(',');
  }

  /** The principal with claim overrides from `token-claims-change` events applied (newest last). */
  effectivePrincipal(principal: Principal, sessionId: string | undefined, now: number): Principal {
    if (this.count === 0) return principal;
    const overrides = this.candidates(principal, sessionId, now).filter((e) => e.kind === 'claims');
    return overrides.length === 0 ? principal : applyClaimOverrides(principal, overrides);
  }

  /**
   * Revokes every session and token of the subject issued at or before `input.at`. Resolves with
   * the entry and the warden sessions that were open for the subject (closed by onRevoke).
   */
  async revoke(match: SubjectMatch, input: EffectInput & { by: string }): Promise<Revocation> {
    const candidate: RegistryEntry = { kind: 'revoke', id: randomUUID(), match, ...input, expiresAt: this.expiry(input.at) };
    const repeated = this.repeatedBy(candidate);
    if (repeated) return { entry: repeated, sessionIds: this.effectOf(repeated).sessionIds, saved: await this.saveAgain(repeated) };
    const entry = candidate;
    const saved = await this.persist(entry);
    const effect = this.effectOf(entry);
    this.deps.audit.record(auditEvent('revocation', {
      entryId: entry.id,
      subject: match,
      eventId: input.eventId,
      reason: input.reason,
      by: input.by,
      at: input.at,
      sessionIds: effect.sessionIds,
    }));
    await this.runHook('onRevoke', effect);
    return { entry, sessionIds: effect.sessionIds, saved };
  }

  /** Calls at or above the configured sensitivity need a step-up until a newer token arrives. */
  async stepUp(match: SubjectMatch, input: EffectInput): Promise<Stored> {
    const { minSensitivity, action } = this.settings.stepUp;
    const entry: RegistryEntry = { kind: 'step_up', id: randomUUID(), match, ...input, minSensitivity, action, expiresAt: this.expiry(input.at) };
    const repeated = this.repeatedBy(entry);
    if (repeated) return { entry: repeated, saved: await this.saveAgain(repeated) };
    const saved = await this.persist(entry);
    await this.runHook('onStepUp', this.effectOf(entry));
    return { entry, saved };
  }

  /** Carries claims from the event as overrides until a newer token arrives; drops cached ones. */
  async overrideClaims(match: SubjectMatch, claims: Readonly<Record<string, unknown>>, input: EffectInput): Promise<Stored> {
    const entry: RegistryEntry = { kind: 'claims', id: randomUUID(), match, ...input, claims, expiresAt: this.expiry(input.at) };
    const repeated = this.repeatedBy(entry);
    if (repeated) return { entry: repeated, saved: await this.saveAgain(repeated) };
    const saved = await this.persist(entry);
    await this.runHook('onClaimsChange', this.effectOf(entry));
    return { entry, saved };
  }

  /** Operator command (`warden revoke`): revokes a user, a warden session or an agent now. */
  async revokeManually(target: ManualTarget, by: string): Promise<Revocation> {
    const match: SubjectMatch =
      'user' in target ? { user: target.user } : 'session' in target ? { wardenSession: target.session } : { agent: target.agent };
    const value = Object.values(match)[0];
    if (typeof value !== 'string' || value.length === 0) {
      throw new WardenError('revoke_target_invalid', 'revoke needs exactly one non-empty user, session or agent');
    }
    const at = this.deps.clock();
    return this.revoke(match, { at, eventId: `manual:${randomUUID()}`, reason: `revoked by operator ${by}`, by });
  }

  /** Live entries (for operators and tests). */
  list(now: number = this.deps.clock()): RegistryEntry[] {
    return [...this.index.values()].flat().filter((e) => e.expiresAt > now);
  }

  /** The effect hooks receive, with the open sessions the entry applies to. */
  effectOf(entry: RegistryEntry): SubjectEffect {
    const affects = (p: Principal, sid: string | undefined): boolean => this.affectsCaller(entry, p, sid);
    const sessionIds = (this.deps.sessions?.list() ?? []).filter((s) => affects(s.principal, s.sessionId)).map((s) => s.sessionId);
    const stepUp = entry.kind === 'step_up' ? { stepUp: { minSensitivity: entry.minSensitivity, action: entry.action } } : {};
    return { match: entry.match, eventId: entry.eventId, reason: entry.reason, at: entry.at, sessionIds, affects, ...stepUp };
  }

  /**
   * Whether the entry covers the caller as presented or, for a revocation or a step-up, as claim
   * overrides make it: the guard blocks the calls of either, so the sessions to close, the
   * subscriptions to end and the approvals to withdraw are picked the same way. (A claims entry is
   * matched as presented only: overrides are found by the token's own claims.)
   */
  private affectsCaller(entry: RegistryEntry, p: Principal, sid: string | undefined): boolean {
    const claims = this.settings.subjects;
    if (entryAffects(entry, p, sid, claims)) return true;
    if (entry.kind === 'claims') return false;
    const effective = this.effectivePrincipal(p, sid, this.deps.clock());
    return effective !== p && entryAffects(entry, effective, sid, claims);
  }

  private candidates(principal: Principal, sessionId: string | undefined, now: number): RegistryEntry[] {
    const out: RegistryEntry[] = [];
    const claims = this.settings.subjects;
    for (const key of principalIndexKeys(principal, sessionId, claims)) {
      const list = this.index.get(key);
      if (!list) continue;
      for (const entry of list) {
        if (entry.expiresAt > now && entryAffects(entry, principal, sessionId, claims)) out.push(entry);
      }
    }
    return out;
  }

  /** Puts the entry in force, then writes it to the revocations file; false when that write failed. */
  private async persist(entry: RegistryEntry): Promise<boolean> {
    if (Object.keys(entry.match).length === 0) {
      throw new WardenError('subject_empty', 'refusing an entry that would match every principal');
    }
    await this.deps.store.set(KEY_PREFIX + entry.id, entry, Math.max(1, entry.expiresAt - this.deps.clock()));
    this.add(entry);
    this.deps.logger?.info({ kind: entry.kind, subject: describeSubject(entry.match), eventId: entry.eventId }, 'subject registry entry added');
    return this.saveAgain(entry);
  }

  /**
   * The entry in force that `candidate` would only repeat (repeatsEntry), if any. A transmitter
   * retries a SET answered 503 (in force, but the revocations file could not be written) for as
   * long as the file stays broken: each retry added an entry of its own and ran the hooks again
   * (sessions closed, approvals withdrawn, grants retired), so memory and work grew with the
   * retries instead of the events. The retry reuses the entry and only tries the save again.
   */
  private repeatedBy(candidate: RegistryEntry): RegistryEntry | undefined {
    const now = this.deps.clock();
    return this.index.get(indexKeyOf(candidate.match))?.find((e) => e.expiresAt > now && repeatsEntry(e, candidate));
  }

  /** Writes the revocations file with `entry` in it; false when that write failed (the entry stays in force). */
  private async saveAgain(entry: RegistryEntry): Promise<boolean> {
    const file = this.deps.file;
    if (!file) return true;
    const err = await this.saver.request();
    if (err === undefined) return true;
    // In force here regardless (evaluate() sees it); only a restart would forget it. Loud, and
    // the operator's `warden revoke` is told.
    this.deps.logger?.error({ err, file: file.path, entryId: entry.id }, 'revocation in force but not saved: a restart would forget it');
    return false;
  }

  /** One write of the revocations file with every live entry (through the saver only). */
  private async saveFile(): Promise<void> {
    const file = this.deps.file;
    if (!file) return;
    // The save merged what other wardens wrote since our last look: take it in now, or the
    // file's new stamp would hide it from the next look.
    this.adoptFromOthers(await file.save(this.list(), this.deps.clock()));
  }

  /** Resolves when no write of the revocations file runs or waits (shutdown, tests). */
  settled(): Promise<void> {
    return this.saver.idle();
  }

  private adopt(entry: RegistryEntry): boolean {
    if (this.ids.has(entry.id) || entry.expiresAt <= this.deps.clock()) return false;
    this.add(entry);
    return true;
  }

  /**
   * Entries another warden wrote: in force here from now on, and with the same reactions as if
   * they were made here (pending approvals of the subject withdrawn, its HTTP sessions closed,
   * cached token checks dropped). Without them, a call waiting for approval here when the subject
   * was revoked elsewhere would still be forwarded once someone approved it.
   */
  private adoptFromOthers(entries: readonly RegistryEntry[]): void {
    for (const entry of entries) {
      if (!this.adopt(entry)) continue;
      if (entry.kind === 'revoke') void this.runHook('onRevoke', this.effectOf(entry));
      else if (entry.kind === 'claims') void this.runHook('onClaimsChange', this.effectOf(entry));
      else if (entry.kind === 'step_up') void this.runHook('onStepUp', this.effectOf(entry));
    }
  }

  private add(entry: RegistryEntry): void {
    const now = this.deps.clock();
    // Pruning walks every entry: at most once a minute, not on every add.
    if (now - this.lastPrune >= 60_000) {
      this.prune(now);
      this.lastPrune = now;
    }
    const key = indexKeyOf(entry.match);
    const list = this.index.get(key);
    if (list) list.push(entry);
    else this.index.set(key, [entry]);
    this.ids.add(entry.id);
    this.count += 1;
  }

  /** Drops expired entries so memory tracks the retention window. */
  private prune(now: number): void {
    for (const [key, list] of this.index) {
      const live = list.filter((e) => e.expiresAt > now);
      for (const e of list) if (e.expiresAt <= now) this.ids.delete(e.id);
      this.count -= list.length - live.length;
      if (live.length === 0) this.index.delete(key);
      else if (live.length !== list.length) this.index.set(key, live);
    }
  }

  /**
   * Retention counted from the cut-off when that lies ahead of now (a transmitter clock running
   * ahead): a token issued at the cut-off is accepted for that long after it, so the entry must last.
   */
  private expiry(at: number): number {
    return Math.max(this.deps.clock(), at) + this.settings.retentionSeconds * 1000;
  }

  private async runHook(name: 'onRevoke' | 'onClaimsChange' | 'onStepUp', effect: SubjectEffect): Promise<void> {
    const hook = this.deps[name];
    if (!hook) return;
    try {
      await hook(effect);
    } catch (err) {
      // The entry already blocks calls in evaluate(); a failing hook only delays cleanup.
      this.deps.logger?.error({ err, hook: name, eventId: effect.eventId }, 'subject registry hook failed');
    }
  }
}
