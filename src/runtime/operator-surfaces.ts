import type { AuditSink } from '../audit/audit-sink.js';
import type { WardenConfig } from '../config/config-schema.js';
import type { Clock } from '../core/clock.js';
import { WardenError } from '../core/errors.js';
import { resolveApproverCredentials } from '../control/caller-auth.js';
import { startControlServer } from '../control/control-server.js';
import { advertiseControlUrl } from '../control/control-url-file.js';
import type { Enforcement } from '../enforce/enforcement.js';
import { startEventReceiver } from '../events/event-receiver-server.js';
import type { SubjectRegistry } from '../events/subject-registry.js';
import type { JwtAuthenticator } from '../identity/jwt-authenticator.js';
import type { Logger } from '../logging/logger.js';
import { sessionRoutes } from '../sessions/session-routes.js';
import type { SessionRegistry } from '../sessions/session-registry.js';
import type { StateStore } from '../state/state-store.js';

export interface OperatorSurfaces {
  readonly controlUrl: string | undefined;
  readonly eventsUrl: string | undefined;
  close(): Promise<void>;
}

export interface OperatorDeps {
  readonly baseDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly store: StateStore;
  readonly sessions: SessionRegistry;
  readonly subjects: SubjectRegistry;
  readonly enforcement: Enforcement;
  readonly authenticator?: JwtAuthenticator;
}

/**
 * Starts what operators and identity providers talk to: the local control API (approvals,
 * grants, sessions, revocation) and, when configured, the Security Event Token receiver.
 */
export async function startOperatorSurfaces(config: WardenConfig, configFile: string, deps: OperatorDeps): Promise<OperatorSurfaces> {
  const closers: (() => Promise<void>)[] = [];
  let controlUrl: string | undefined;
  let eventsUrl: string | undefined;
  try {
    if (config.control.enabled) {
      const control = await startControlServer({
        config: config.control,
        routes: [...deps.enforcement.routes, ...sessionRoutes(deps.sessions, deps.subjects, deps.clock)],
        logger: deps.logger,
        // Only the admin credential and the configured approver tokens may answer approvals. Access
        // tokens from the MCP issuers are NOT approver credentials: every agent holds one, and an
        // agent (or another user's agent) must never be able to approve the calls warden holds.
        approvers: resolveApproverCredentials(config.approvals.approvers, { env: deps.env, baseDir: deps.baseDir }),
        env: deps.env,
        baseDir: deps.baseDir,
        audit: (event) => deps.audit.record(event),
      }).catch((err: unknown) => {
        throw withConfigFileOnListenFailure(err, configFile);
      });
      closers.push(() => control.close());
      controlUrl = control.url;
      deps.logger.info({ url: control.url, adminTokenFile: control.adminTokenFile }, 'control API listening');
      if (control.adminTokenFile) {
        const advert = await advertiseControlUrl(control.adminTokenFile, control.url);
        closers.push(async () => {
          const outcome = await advert.withdraw();
          deps.logger.debug({ file: advert.file, outcome }, 'control-url file withdrawn');
        });
        if (advert.displaced !== undefined) {
          // Two wardens share this folder: the CLIs reach only one of them without --url.
          deps.logger.warn(
            { file: advert.file, url: control.url, otherUrl: advert.displaced },
            `another running warden advertised its control API (${advert.displaced}) in ${advert.file}; this warden takes the file over until it stops, then gives it back. CLIs without --url now reach this warden; reach the other with --url ${advert.displaced}, or give each warden its own control.adminTokenFile folder`,
          );
        }
      }
    }
    if (config.events?.enabled) {
      const receiver = await startEventReceiver(config.events, {
        registry: deps.subjects, audit: deps.audit, clock: deps.clock, store: deps.store, logger: deps.logger, configFile,
        // Anonymous mode has no token issuer: no claims change can then name whom it is for.
        tokenIssuers: (config.identity?.issuers ?? []).map((i) => i.issuer),
      }).catch((err: unknown) => {
        throw withConfigFileOnListenFailure(err, configFile);
      });
      closers.push(() => receiver.close());
      eventsUrl = receiver.url;
      deps.logger.info({ url: receiver.url }, 'security event receiver listening');
    }
  } catch (err) {
    await Promise.allSettled(closers.map((c) => c()));
    throw err;
  }
  return {
    controlUrl,
    eventsUrl,
    close: async () => {
      await Promise.allSettled(closers.reverse().map((c) => c()));
    },
  };
}

/** A listener that could not bind names the config file too, as every start-up error does. */
export function withConfigFileOnListenFailure(err: unknown, configFile: string): unknown {
  return err instanceof WardenError && err.code === 'listen_failed' ? new WardenError('listen_failed', `${configFile}: ${err.message}`, { cause: err }) : err;
}
