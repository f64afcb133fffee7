import type { Logger } from '../logging/logger.js';

/** Notifications one upstream connection may have on their way to the upstream at once. */
export const MAX_NOTIFICATIONS_IN_FLIGHT = 64;

/**
 * Bounds the notifications warden passes on to one upstream that have not been taken yet. An agent
 * may send notifications without end (they are answered 202 at once and counted nowhere), and
 * warden passes each on to every upstream: over HTTP each is a POST of its own, so an upstream that
 * answers them slowly (or not at all) had warden hold a socket and a pending fetch per
 * notification, without bound (a thousand sockets for a thousand notifications from one session).
 * Beyond the bound a notification is dropped and logged: the upstream is not keeping up with them
 * anyway. A stdio child takes each at once (its stdin has its own bound), so it never fills.
 *
 * Except one kind: `notifications/roots/list_changed` says "ask me for my roots again" and carries
 * nothing else, so many are worth one, but none is worth nothing. Dropped, it left the upstream on
 * the agent's old roots for good, which may be wider than the ones the agent now allows (a
 * filesystem server keeps serving a folder the agent took away). One dropped is owed instead, and
 * sent as soon as the upstream takes a notification again.
 */
/** Notifications that carry no news but "it changed": one sent later stands for all dropped. */
const OWED_WHEN_DROPPED: ReadonlySet<string> = new Set(['notifications/roots/list_changed']);

export class NotificationBacklog {
  private waiting = 0;
  private dropped = 0;
  /** Coalescing notifications dropped since the upstream last had room: send once it has. */
  private readonly owed = new Set<string>();

  constructor(
    private readonly upstream: string,
    private readonly logger: Logger,
    private readonly limit = MAX_NOTIFICATIONS_IN_FLIGHT,
  ) {}

  /** True when one more may be sent now (call `settled` once it is); false: drop it. */
  admit(method: string): boolean {
    if (this.waiting < this.limit) {
      this.waiting += 1;
      return true;
    }
    // Once per episode in the log; the count comes when the upstream catches up.
    if (this.dropped === 0) this.logger.warn({ upstream: this.upstream, method, limit: this.limit }, 'upstream is not taking notifications; dropping them until it catches up');
    this.dropped += 1;
    if (OWED_WHEN_DROPPED.has(method)) this.owed.add(method);
    return false;
  }

  /**
   * A notification admitted earlier was taken or failed. Returns the owed notifications to send
   * now (each through `admit` again, as any other).
   */
  settled(): string[] {
    this.waiting = Math.max(0, this.waiting - 1);
    if (this.dropped !== 0) {
      this.logger.warn({ upstream: this.upstream, dropped: this.dropped }, 'upstream takes notifications again; some were dropped');
      this.dropped = 0;
    }
    if (this.owed.size === 0) return [];
    const due = [...this.owed];
    this.owed.clear();
    return due;
  }
}
