import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditSink } from '../audit/audit-sink.js';
import { auditEvent } from '../audit/events.js';
import { openAuditSinkFor } from './audit-open.js';
import type { WardenConfig } from '../config/config-schema.js';
import { ConfigError } from '../core/errors.js';
import { isLoopbackHost } from '../config/cross-checks.js';
import { WARDEN_VERSION } from '../core/warden-version.js';
import { systemClock } from '../core/clock.js';
import { digestOf } from '../core/canonical-json.js';
import type { Authenticator } from '../core/authenticator.js';
import type { Principal } from '../core/principal.js';
import type { ToolCallRequest } from '../core/tool-call.js';
import type { Guard } from '../core/tool-call.js';
import { buildBlockResult } from '../enforce/block-result.js';
import { createEnforcement } from '../enforce/enforcement.js';
import { createGuard } from '../guard/create-guard.js';
import type { WaitRefusal } from '../guard/ports.js';
import { createAnonymousAuthenticator } from '../identity/anonymous-authenticator.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../identity/jwt-authenticator.js';
import type { Logger } from '../logging/logger.js';
import { createPolicyEngine } from '../policy/policy-engine.js';
import { createPolicyHolder } from '../policy/policy-holder.js';
import type { WardenHandle } from '../proxy/start-warden.js';
import { SessionRegistry, sessionsTracked } from '../sessions/session-registry.js';
import { MemoryStateStore } from '../state/memory-store.js';
import { startOperatorSurfaces, type OperatorSurfaces } from './operator-surfaces.js';
import { policyDecisionEngine } from './policy-decision-engine.js';
import { createSubjectRegistry, identityWithSubjectClaims } from './subject-wiring.js';
import { announcedLists, openPins } from './pins-wiring.js';
import { publicConfig } from './public-config.js';
import { warmUpDecisionPath } from './warm-up.js';
import { allChecks, checkPolicyFilesExist, policyClaimsCheck, policyUpstreamsCheck } from './policy-checks.js';
import { policyLoadedListener } from './policy-loaded.js';
import { createPrivateDirs } from './private-dirs.js';
import { runtimeShutdown, type Closer } from './runtime-shutdown.js';
import { StartupInterruptedError, stopReason, stoppableFetch, throwIfStopRequested } from './startup-stop.js';

/** Everything `warden run` builds around the proxy, and how to stop it. */
export interface Runtime {
  readonly authenticator: Authenticator;
  readonly guard: Guard;
  readonly audit: AuditSink;
  /** Where operators reach the control API (approvals, sessions, revoke). */
  readonly controlUrl: string | undefined;
  /**
   * Called once the proxy is up: revocations can then close live sessions, and the state store
   * allocates the rest of its room while the proxy waits for its first messages and upstreams.
   */
  attach(handle: WardenHandle): void;
  reloadPolicy(): Promise<void>;
  close(reason: string): Promise<void>;
}

/** The bundled default policy, used when the config names none. */
export const BUNDLED_DEFAULT_POLICY = fileURLToPath(new URL('../../../policies/default.yaml', import.meta.url));

/**
 * The composition root: builds audit, identity, state, policy, enforcement, re-evaluation, pins
 * and the operator surfaces from one validated config, and hands the proxy its guard.
 * Relative paths in the config resolve against the config file's folder.
 *
 * `stop` (aborted by SIGINT/SIGTERM) ends start-up at the next step and cancels a JWKS fetch in
 * flight; what was built is then closed through the normal stop path (`warden.stop` recorded,
 * audit closed) and StartupInterruptedError is thrown. A failure closes the same way, with
 * reason `start_failed`, and rethrows.
 */
export async function composeRuntime(config: WardenConfig, configFile: string, logger: Logger, env: NodeJS.ProcessEnv = process.env, stop?: AbortSignal): Promise<Runtime> {
  const baseDir = dirname(configFile);
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const clock = systemClock;
  const closers: Closer[] = [];
  const auditConfig = { ...config.audit, file: at(config.audit.file), checkpoint: { ...config.audit.checkpoint, ...(config.audit.checkpoint.file ? { file: at(config.audit.checkpoint.file) } : {}), ...(config.audit.checkpoint.signingKey ? { signingKey: at(config.audit.checkpoint.signingKey) } : {}) } };
  // Folders warden writes state into (.warden/: audit log, checkpoint) hold secrets and evidence:
  // created private (0700) here, before the sink would create them with the default umask.
  createPrivateDirs([auditConfig.file, auditConfig.checkpoint.file].filter((f): f is string => f !== undefined));
  const audit = await openAuditSinkFor(auditConfig, configFile, { logger, clock, configFile });
  const shutdown = runtimeShutdown(closers, audit, logger);
  try {
    audit.record(auditEvent('warden.start', { version: WARDEN_VERSION, pid: process.pid, transport: config.listen.http ? (config.listen.stdio ? 'stdio+http' : 'http') : 'stdio', upstreams: Object.keys(config.upstreams) }));
    const shown = publicConfig(config);
    audit.record(auditEvent('config.loaded', { file: configFile, digest: digestOf(shown), config: shown }));
    throwIfStopRequested(stop);
    const startupCheck = { running: true };
    const authenticator = await buildAuthenticator(config, configFile, { logger, audit, baseDir, env, fetch: stoppableFetch(stop), stop, startupCheck });
    startupCheck.running = false;
    closers.push(() => authenticator.close?.());
    throwIfStopRequested(stop);
    const store = new MemoryStateStore({ maxEntries: config.state.maxEntries });
    const policyFiles = config.policy.files.length > 0 ? config.policy.files.map(at) : [BUNDLED_DEFAULT_POLICY];
    checkPolicyFilesExist(policyFiles, configFile);
    // Set once enforcement exists (a reload can only happen after start-up).
    let withdrawStaleApprovals: ((policyHash: string) => void) | undefined;
    // The proxy, once attached (a reload re-checks its standing subscriptions; revocations close sessions).
    let handle: WardenHandle | undefined;
    const holder = createPolicyHolder({
      files: policyFiles,
      logger,
      watch: config.policy.watch,
      check: allChecks(policyClaimsCheck(config, configFile, logger), policyUpstreamsCheck(config, logger)),
      onLoad: policyLoadedListener({ audit, logger, files: policyFiles, withdrawStale: () => withdrawStaleApprovals, recheckStanding: () => handle?.recheckSubscriptions }),
      onError: (err) => audit.record(auditEvent('policy.reload_failed', { file: policyFiles.join(','), error: err.message, keptPolicyHash: holder.current().hash })),
    });
    closers.push(() => holder.close());
    const engine = policyDecisionEngine(createPolicyEngine({ store, policy: holder.current }), config.audit.redact);
    await warmUpDecisionPath(holder.current, clock());
    throwIfStopRequested(stop);
    // Approvers see the call's real arguments; audit.redact applies to the audit log only.
    // The security-event registry is built after enforcement (it withdraws approvals): bound below.
    // Until then (no call is served yet) an unanswerable check counts as revoked: nothing is remembered.
    let revokedNow: ((p: Principal, sessionId: string) => boolean) | undefined;
    let standingNow: ((judgedAs: Principal, presented: Principal, sessionId: string) => string) | undefined;
    const enforcement = createEnforcement(config, {
      audit, store, logger, clock,
      isRevoked: (p, sessionId) => revokedNow?.(p, sessionId) ?? true,
      standingOf: (judgedAs, presented, sessionId) => {
        if (!standingNow) throw new Error('security-event registry not ready');
        return standingNow(judgedAs, presented, sessionId);
      },
    });
    closers.push(() => enforcement.close());
    // A pending approval is bound to the policy it was asked under: after a reload (say, one that
    // blocks the tool) an approver's "allow" must not forward it. The agent may call again.
    // Remembered grants are bound the same way: what a human allowed was judged by the old rules.
    withdrawStaleApprovals = (hash) => {
      enforcement.approvals.withdrawWhere((a) => a.policyHash !== hash, 'policy changed');
      enforcement.approvals.retireGrantsNotUnder(hash).catch((err: unknown) => logger.error({ err, policyHash: hash }, 'could not revoke grants of the previous policy'));
    };
    // Sized for every session the listeners admit: revocations find the sessions to close here.
    const sessions = new SessionRegistry({ maxSessions: sessionsTracked(config.listen) });
    const { registry: subjects, stop: stopFollowing } = await createSubjectRegistry(config, {
      store, audit, clock, logger, sessions, at,
      authenticator: isJwt(authenticator) ? authenticator : undefined,
      approvals: enforcement.approvals,
      closeSession: (id, reason) => handle?.closeSession(id, reason),
      endSubscriptions: (ids, eventId) => void handle?.endRevokedSubscriptions(ids, eventId),
      recheckSubscriptions: (ids) => handle?.recheckSubscriptions(ids, 'security_event'),
    });
    closers.push(() => stopFollowing());
    revokedNow = (p, sessionId) => subjects.isRevoked(p, sessionId, clock());
    standingNow = (judgedAs, presented, sessionId) => subjects.standingOf(judgedAs, presented, sessionId, clock());
    // A revoked token is refused at the HTTP front, before any session or method; required scopes
    // are checked against claim overrides too.
    if (isJwt(authenticator)) {
      authenticator.followSubjects({
        isRevoked: (p) => subjects.isRevoked(p, undefined, clock()),
        effective: (p) => subjects.effectivePrincipal(p, undefined, clock()),
      });
    }
    throwIfStopRequested(stop);
    // An accepted pin makes a withheld definition listable again: agents are asked to list again.
    const pins = openPins(config, at, { audit, clock, logger, onListingChange: (kinds) => void handle?.announceListsChanged(announcedLists(kinds)) });
    if (pins) closers.push(() => pins.close());
    const guard = createGuard({
      engine, audit, clock, logger, subjects, sessions,
      ...(pins ? { pins } : {}),
      decisionBudgetMs: config.policy.decisionBudgetMs,
      tokenGraceMs: tokenGraceOf(config),
      withdrawApprovals: (match, reason) => enforcement.approvals.withdrawWhere(match, reason),
      enforcer: { enforce: enforcement.enforce, blockResult: (req, reason) => buildRevokedResult(req, reason) },
    });
    const surfaces: OperatorSurfaces = await startOperatorSurfaces(config, configFile, {
      baseDir, env, logger, audit, clock, store, sessions, subjects, enforcement,
      ...(isJwt(authenticator) ? { authenticator } : {}),
    });
    closers.push(() => surfaces.close());
    throwIfStopRequested(stop);
    return {
      authenticator, guard, audit,
      controlUrl: surfaces.controlUrl,
      attach: (h) => {
        handle = h;
        void store.allocateWhenIdle();
      },
      reloadPolicy: async () => {
        const result = await holder.reload();
        logger.info({ result }, 'policy reload requested');
      },
      close: shutdown,
    };
  } catch (err) {
    // Cut short by a stop request, or failed: either way nothing half-built may stay open, and
    // the log ends with warden.stop and a closed checkpoint, so the next start is not "unclean".
    const interrupted = stop?.aborted === true;
    await shutdown(interrupted ? stopReason(stop) : 'start_failed').catch((closeErr: unknown) => logger.error({ err: closeErr }, 'error while closing after start-up ended'));
    throw interrupted ? new StartupInterruptedError(stopReason(stop), { cause: err }) : withConfigFile(err, configFile);
  }
}

/**
 * A ConfigError raised deep in an area (a JWKS file, an approver token file) names the key but not
 * the config file; the operator needs both. Errors that already name a file pass through.
 */
function withConfigFile(err: unknown, configFile: string): unknown {
  if (!(err instanceof ConfigError) || err.file !== undefined) return err;
  return new ConfigError(`${configFile}: ${err.message}`, { file: configFile, ...(err.keyPath !== undefined ? { keyPath: err.keyPath } : {}) }, { cause: err });
}

function isJwt(a: Authenticator): a is JwtAuthenticator {
  return typeof (a as Partial<JwtAuthenticator>).invalidate === 'function';
}

async function buildAuthenticator(
  config: WardenConfig,
  configFile: string,
  deps: {
    logger: Logger; audit: AuditSink; baseDir: string; env: NodeJS.ProcessEnv; fetch: typeof fetch;
    stop: AbortSignal | undefined;
    /** True while the start-up token check runs (it is part of creating the authenticator). */
    startupCheck: { readonly running: boolean };
  },
): Promise<Authenticator> {
  if (config.identity && config.dangerouslyAllowAnonymous) {
    // Both set is ambiguous; refusing is safer than guessing which one the operator meant.
    throw new ConfigError('set either identity or dangerouslyAllowAnonymous, not both', { file: configFile, keyPath: 'dangerouslyAllowAnonymous' });
  }
  if (config.identity) return createJwtAuthenticator(identityWithSubjectClaims(withoutUnusedStdioToken(config.identity, config.listen.stdio, deps.logger), config), { logger: deps.logger, audit: stdioIdentityAudit(deps.audit, deps.stop, deps.startupCheck), baseDir: deps.baseDir, env: deps.env, fetch: deps.fetch });
  if (config.dangerouslyAllowAnonymous) {
    deps.logger.warn('dangerouslyAllowAnonymous: every caller is accepted as the anonymous principal; audit records are marked anonymous');
    const http = config.listen.http;
    if (http?.dangerouslyAllowNonLoopback && !isLoopbackHost(http.host)) {
      deps.logger.warn({ host: http.host, port: http.port }, 'listen.http.dangerouslyAllowNonLoopback: anonymous mode on a network address; anyone who reaches this port can call every tool');
    }
    return createAnonymousAuthenticator();
  }
  throw new ConfigError('no identity configured: add an identity section, or set dangerouslyAllowAnonymous: true for local development only', {
    file: configFile,
    keyPath: 'identity',
  });
}

/**
 * `identity.token` is the stdio agent's token. Without a stdio listener nothing uses it, and
 * checking it at start-up refused to start an HTTP-only warden over a token nobody presents (an
 * unset WARDEN_TOKEN, an expired file). HTTP callers bring their own tokens, so leaving it out
 * loosens nothing; the operator is told it is ignored.
 */
type Identity = NonNullable<WardenConfig['identity']>;

function withoutUnusedStdioToken(identity: Identity, stdio: boolean, logger: Logger): Identity {
  const { token, ...rest } = identity;
  if (token === undefined || stdio) return identity;
  logger.warn('identity.token is ignored: it is the stdio agent\'s token, and listen.stdio is false (HTTP callers send their own tokens)');
  return rest;
}

/**
 * The HTTP listener records every HTTP identity failure itself (with the client address and the
 * token digest); the authenticator recording them too wrote each rejection twice. The
 * authenticator keeps recording stdio failures, which no other stage sees. A stop request during
 * start-up cancels the key fetch of the start-up token check: that check did not fail, it was cut
 * short, and the record says so (`startup_interrupted`) instead of `keys_unavailable`. Only then:
 * any other reason, or a failure after start-up (the stop signal stays aborted while warden
 * stops), is recorded as it is.
 */
function stdioIdentityAudit(audit: AuditSink, stop: AbortSignal | undefined, startupCheck: { readonly running: boolean }): AuditSink {
  return {
    record: (event) => {
      if (event.type === 'identity.failed' && event['transport'] === 'http') return;
      if (event.type === 'identity.failed' && event['reason'] === 'keys_unavailable' && startupCheck.running && stop?.aborted === true) {
        audit.record({ ...event, reason: 'startup_interrupted' });
        return;
      }
      audit.record(event);
    },
    healthy: () => audit.healthy(),
    close: () => audit.close(),
  };
}

/**
 * How long after `exp` the identity layer still accepts a principal's token: its issuer's
 * `clockTolerance` (none for an issuer not configured, or without identity: anonymous principals
 * carry no `exp`). The guard refuses a call that waited past it.
 */
function tokenGraceOf(config: WardenConfig): (p: Principal) => number {
  const tolerance = new Map((config.identity?.issuers ?? []).map((i) => [i.issuer, i.clockTolerance * 1000]));
  return (p) => tolerance.get(p.issuer) ?? 0;
}

function buildRevokedResult(req: ToolCallRequest, reason: WaitRefusal): Record<string, unknown> {
  return buildBlockResult({ callId: req.callId, reason, request: req.action });
}
