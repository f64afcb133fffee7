import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditSink } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { sha256Hex } from '../core/canonical-json.js';
import type { Logger } from '../logging/logger.js';
import { IdentityFailureSampler } from '../proxy/identity-failure-sampler.js';
import type { StateStore } from '../state/state-store.js';
import { applySet } from './apply-set.js';
import type { EventsConfig } from './events-config.js';
import { loadTransmitterKeys, verifySet, type SetErrorCode } from './set-verifier.js';
import type { SubjectRegistry } from './subject-registry.js';
import { readBoundedBody } from './bounded-body.js';

export interface SetReceiverDeps {
  readonly config: EventsConfig;
  readonly registry: SubjectRegistry;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly store: StateStore;
  readonly logger?: Logger;
  /** Name of the config file, for start-up errors. */
  readonly configFile?: string;
  /** Issuers of the tokens warden accepts: where a claims change whose subject names none applies. */
  readonly tokenIssuers?: readonly string[];
}

export type SetRequestHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  /** At shutdown: writes the last window's summary of refused SETs (see IdentityFailureSampler). */
  close(): void;
};

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'cache-control': 'no-store', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: SetErrorCode, description: string, status = 400, headers: Record<string, string> = {}): void {
  send(res, status, { err, description }, headers);
}

function loadPushToken(config: EventsConfig, configFile: string): Buffer | undefined {
  const auth = config.authorization;
  if (!auth) return undefined;
  const value =
    'tokenFile' in auth
      ? (() => {
          try {
            return readFileSync(auth.tokenFile, 'utf8').trim();
          } catch (cause) {
            throw new ConfigError(`cannot read ${auth.tokenFile}`, { file: configFile, keyPath: 'events.authorization.tokenFile' }, { cause });
          }
        })()
      : process.env[auth.tokenEnv]?.trim();
  if (!value) throw new ConfigError('push authorization token is empty or unset', { file: configFile, keyPath: 'events.authorization' });
  return Buffer.from(sha256Hex(value));
}

/** Constant-time comparison of the presented bearer token (hashed, so lengths never leak). */
function authorized(req: IncomingMessage, expected: Buffer | undefined): boolean {
  if (!expected) return true;
  const header = req.headers.authorization ?? '';
  const m = /^Bearer ([^\s]+)$/i.exec(header);
  if (!m?.[1]) return false;
  return timingSafeEqual(Buffer.from(sha256Hex(m[1])), expected);
}

function isSetContentType(value: string | undefined): boolean {
  const type = (value ?? '').split(';')[0]?.trim().toLowerCase();
  return type === 'application/secevent+jwt';
}

/**
 * RFC 8935 push receiver as a node:http handler. Keys and the push token are loaded once here, so
 * misconfiguration fails at start-up. Every rejection is a 400 (401 for push authorization) with
 * an RFC 8935 `err`, and leaves the registry untouched.
 */
export function createSetReceiver(deps: SetReceiverDeps): SetRequestHandler {
  const configFile = deps.configFile ?? 'config';
  const keys = loadTransmitterKeys(deps.config.transmitter.keys, configFile);
  const pushToken = loadPushToken(deps.config, configFile);
  // Without push authorization anyone who reaches the port can send SETs that fail verification,
  // and each refusal was a synchronous audit record: enough of them filled the audit disk, and a
  // full audit disk stops every call (fail closed). Refusals are recorded in full up to the
  // sampler's limits per address and per minute; the rest become one summary record.
  const refusals = new IdentityFailureSampler((summary) => {
    deps.audit.record(auditEvent('identity.failures_suppressed', summary));
    deps.logger?.warn({ count: summary.count, sources: summary.sources, top: summary.top }, 'many refused security events: recorded in the audit as one summary');
  }, Date.now, undefined, 'events');
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      deps.logger?.error({ err }, 'SET receiver failed');
      // The transmitter retries on 5xx; the event was not (fully) applied or audited.
      send(res, 500, { err: 'internal', description: 'the receiver could not process the SET' });
    });
  };
  return Object.assign(handler, { close: () => refusals.close() });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      req.resume();
      return send(res, 405, { err: 'invalid_request', description: 'only POST is accepted' }, { allow: 'POST' });
    }
    // Transmitters are servers; a browser Origin means a web page is trying to reach the receiver.
    if (req.headers.origin !== undefined) {
      req.resume();
      return sendError(res, 'access_denied', 'browser requests are not accepted', 403);
    }
    if (!authorized(req, pushToken)) {
      req.resume();
      return sendError(res, 'authentication_failed', 'missing or wrong push authorization', 401, { 'www-authenticate': 'Bearer' });
    }
    if (!isSetContentType(req.headers['content-type'])) {
      req.resume();
      return sendError(res, 'invalid_request', 'content type must be application/secevent+jwt');
    }
    const body = await readBoundedBody(req, deps.config.maxBodyBytes);
    if (body.kind === 'too_large') {
      sendError(res, 'invalid_request', `body exceeds ${deps.config.maxBodyBytes} bytes`, 400, { connection: 'close' });
      return;
    }
    const now = deps.clock();
    const verdict = await verifySet(body.text.trim(), keys, deps.config, now);
    if (!verdict.ok) {
      if (refusals.admit(req.socket.remoteAddress, verdict.err)) {
        deps.audit.record(auditEvent('event.received', { accepted: false, err: verdict.err, description: verdict.description }));
      }
      // 503: the transmitter retries (a 400 is final and the event would be lost).
      if (verdict.retryable) return sendError(res, verdict.err, verdict.description, 503, { 'retry-after': '30' });
      return sendError(res, verdict.err, verdict.description);
    }
    const set = verdict.set;
    const eventTypes = Object.keys(set.events);
    // Replays: RFC 8417 makes `jti` the duplicate check. A duplicate is acknowledged with 202 (the
    // transmitter's earlier delivery evidently succeeded, so it must stop retrying) but changes nothing.
    const jtiKey = `events:jti:${sha256Hex(`${set.iss}\u0000${set.jti}`)}`;
    // Remembered as long as a SET can be accepted: `iat` may be up to the clock tolerance ahead,
    // and such a SET stays acceptable for the whole window after that `iat`.
    const rememberMs = (deps.config.replayWindowSeconds + deps.config.clockToleranceSeconds) * 1000;
    const fresh = await deps.store.setIfAbsent(jtiKey, now, rememberMs);
    if (!fresh) {
      deps.audit.record(auditEvent('event.received', { accepted: true, duplicate: true, eventId: set.jti, issuer: set.iss, eventTypes }));
      return send(res, 202);
    }
    let outcomes: Awaited<ReturnType<typeof applySet>>;
    try {
      deps.audit.record(auditEvent('event.received', { accepted: true, duplicate: false, eventId: set.jti, issuer: set.iss, eventTypes, txn: set.txn }));
      outcomes = await applySet(set, { config: deps.config, registry: deps.registry, audit: deps.audit, now, tokenIssuers: deps.tokenIssuers });
    } catch (err) {
      // Forget the jti so the transmitter's retry is processed rather than dropped as a duplicate.
      await deps.store.delete(jtiKey);
      throw err;
    }
    for (const o of outcomes) {
      if (o.unknownIssuer === undefined) continue;
      deps.logger?.warn(
        { eventId: set.jti, eventType: o.eventType, subject: o.subject, issuer: o.unknownIssuer, tokenIssuers: deps.tokenIssuers },
        'security event names an issuer that is not a configured token issuer: its entry can match no token warden accepts (check identity.issuers against the subject\'s iss, trailing slash included)',
      );
    }
    if (outcomes.some((o) => !o.saved)) {
      // In force in this process, but not in the revocations file: a restart would forget it. A 202
      // would make the transmitter drop the event; the retry (jti forgotten) is saved once the
      // file can be written again.
      await deps.store.delete(jtiKey);
      return send(res, 503, { err: 'internal', description: 'the event is in force but could not be saved; send it again later' }, { 'retry-after': '30' });
    }
    send(res, 202);
  }
}
