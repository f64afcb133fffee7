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
 */
export class NotificationBacklog {
  private waiting = 0;
  private dropped = 0;

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
    return false;
  }

  /** A notification admitted earlier was taken or failed. */
  settled(): void {
    this.waiting = Math.max(0, this.waiting - 1);
    if (this.dropped === 0) return;
    this.logger.warn({ upstream: this.upstream, dropped: this.dropped }, 'upstream takes notifications again; some were dropped');
    this.dropped = 0;
  }
}
