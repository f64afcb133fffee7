import type { Principal } from '../core/principal.js';
import type { Logger } from '../logging/logger.js';

/** Reads what the security-event registry holds for a caller now (SubjectRegistry.standingOf). */
export type StandingOf = (judgedAs: Principal, presented: Principal, sessionId: string) => string;

/**
 * The caller's standing as each waiting request's call was judged, compared with its standing
 * when an "allow and remember" comes: a revocation, step-up or claims change in between (one the
 * withdrawal missed, the request still being registered) means nothing may be remembered.
 * Fail closed: a read that throws, then or now, counts as changed.
 */
export class JudgedStanding {
  private readonly judged = new Map<string, { readonly judgedAs: Principal; readonly presented: Principal; readonly standing: string | undefined }>();

  constructor(
    private readonly standingOf: StandingOf | undefined,
    private readonly logger: Logger,
  ) {}

  /** The standing now, to be kept with `keep` once the request has an id (read it in the tick the call was judged). */
  read(judgedAs: Principal, presented: Principal, sessionId: string): { readonly judgedAs: Principal; readonly presented: Principal; readonly standing: string | undefined } {
    return { judgedAs, presented, standing: this.readNow(judgedAs, presented, sessionId) };
  }

  keep(id: string, snapshot: ReturnType<JudgedStanding['read']>): void {
    this.judged.set(id, snapshot);
  }

  forget(id: string): void {
    this.judged.delete(id);
  }

  /** Whether the caller of request `id` stands otherwise now than when its call was judged (unknown request: changed). */
  changed(id: string, sessionId: string): boolean {
    const then = this.judged.get(id);
    if (then === undefined || then.standing === undefined) return true;
    const now = this.readNow(then.judgedAs, then.presented, sessionId);
    return now === undefined || now !== then.standing;
  }

  private readNow(judgedAs: Principal, presented: Principal, sessionId: string): string | undefined {
    // Without a registry nothing can change a caller's standing.
    if (!this.standingOf) return '';
    try {
      return this.standingOf(judgedAs, presented, sessionId);
    } catch (err) {
      this.logger.warn({ err }, 'could not read the caller\'s standing; an "allow and remember" will remember nothing');
      return undefined;
    }
  }
}
