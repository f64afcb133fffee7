import type { AuditEvent, AuditSink } from '../audit/audit-sink.js';
import type { WardenConfig } from '../config/config-schema.js';
import type { Authenticator } from '../core/authenticator.js';
import type { Principal } from '../core/principal.js';
import type { Guard } from '../core/tool-call.js';
import type { Logger } from '../logging/logger.js';
import type { DownstreamChannel } from './downstream-channel.js';
import { ProxySession } from './proxy-session.js';
import type { RequestsInFlight } from './requests-in-flight.js';

export interface NewSession {
  readonly sessionId: string;
  readonly channel: DownstreamChannel;
  readonly principal: Principal | undefined;
  readonly remoteAddress: string | undefined;
  readonly userAgent: string | undefined;
  readonly onClosed?: (reason: string) => void;
  /** HTTP: the session's bounded count of requests in flight. */
  readonly requestsInFlight?: RequestsInFlight;
}

/** What every listener shares: config, the injected authenticator/guard/audit, and the session registry. */
export class WardenRuntime {
  readonly sessions = new Map<string, ProxySession>();

  constructor(
    readonly config: WardenConfig,
    readonly authenticator: Authenticator,
    readonly guard: Guard,
    private readonly auditSink: AuditSink | undefined,
    readonly logger: Logger,
    readonly serverInfo: { name: string; version: string },
  ) {}


  /** Records an audit event if a sink is configured; a failing sink is logged, not thrown, here. */
  audit(event: AuditEvent): void {
    if (!this.auditSink) return;
    try {
      this.auditSink.record(event);
    } catch (err) {
      this.logger.error({ err: String(err), type: event.type }, 'audit record failed');
    }
  }

  createSession(spec: NewSession): ProxySession {
    const session = new ProxySession({
      sessionId: spec.sessionId,
      channel: spec.channel,
      upstreams: this.config.upstreams,
      timeouts: this.config.timeouts,
      maxUpstreamMessageBytes: this.config.limits.maxUpstreamMessageBytes,
      maxBufferedOutputBytes: this.config.limits.maxBufferedOutputBytes,
      guard: this.guard,
      authenticator: this.authenticator,
      audit: this.auditSink,
      logger: this.logger.child({ sessionId: spec.sessionId }),
      principal: spec.principal,
      remoteAddress: spec.remoteAddress,
      userAgent: spec.userAgent,
      serverInfo: this.serverInfo,
      ...(spec.requestsInFlight ? { requestsInFlight: spec.requestsInFlight } : {}),
      onClosed: (s, reason) => {
        this.sessions.delete(s.id);
        spec.onClosed?.(reason);
      },
    });
    this.sessions.set(spec.sessionId, session);
    return session;
  }
}
