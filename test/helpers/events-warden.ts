import { controlApi, type ControlApi } from './events-control.js';
import { EVENTS_POLICY, transmitter, type Transmitter } from './events-sets.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, identityEnv, type IdentityEnv } from './identity-env.js';
import { loggedUrl, startHttpWarden, startStdioWarden, type HttpWarden } from './identity-warden.js';

/** An HTTP `warden run` that receives security events, with what the e2e event tests drive it by. */
export interface EventsWarden {
  readonly env: IdentityEnv;
  /** The test SET transmitter the `events:` section trusts. */
  readonly tx: Transmitter;
  readonly warden: HttpWarden;
  /** Where SETs are pushed: the receiver's address as warden logs it. */
  readonly eventsUrl: string;
  readonly control: ControlApi;
}

export interface EventsWardenOptions {
  /** Config sections added to (or replacing) the events policy and `events:` section. */
  readonly config?: (env: IdentityEnv) => Record<string, unknown>;
  /** Keys merged into the `events:` section (e.g. receiver limits). */
  readonly events?: Record<string, unknown>;
}

/**
 * A fresh identity environment (`prefix` names its temporary folder), a SET transmitter, and
 * `warden run` over HTTP with the e2e events policy, once its receiver and control API are up.
 * The caller stops `warden`.
 */
export async function startEventsHttpWarden(prefix: string, options: EventsWardenOptions = {}): Promise<EventsWarden> {
  const env = await identityEnv(prefix);
  const tx = await transmitter(env.dir);
  const warden = await startHttpWarden(env.dir, env.config({
    policy: { files: [EVENTS_POLICY], watch: false },
    events: tx.section(options.events),
    ...options.config?.(env),
  }));
  const eventsUrl = await eventually(() => loggedUrl(warden.stderr, 'security event receiver listening'));
  return { env, tx, warden, eventsUrl, control: await controlApi(env.adminTokenFile) };
}

/** A stdio `warden run` that receives security events, with its agent. */
export interface StdioEventsWarden {
  readonly env: IdentityEnv;
  readonly tx: Transmitter;
  readonly agent: Awaited<ReturnType<typeof startStdioWarden>>;
  readonly eventsUrl: string;
  readonly control: ControlApi;
}

export interface StdioEventsWardenOptions {
  /** The user of the agent's token file (actor `agent-7`), issued 10 s ago: before any event the test sends. */
  readonly user: string;
  /** The policy's YAML text, written to the test's folder. */
  readonly policy: string;
  /** Claims the identity section carries into the principal (`identity.extraClaims`). */
  readonly extraClaims?: readonly string[];
  /** Config sections added to the identity, policy and `events:` sections (throttle, approvals). */
  readonly config?: Record<string, unknown>;
}

/**
 * A fresh identity environment, a SET transmitter, and `warden run` over stdio for one user's
 * token file and the given policy, once its receiver and control API are up. The caller closes
 * `agent`.
 */
export async function startEventsStdioWarden(prefix: string, options: StdioEventsWardenOptions): Promise<StdioEventsWarden> {
  const env = await identityEnv(prefix);
  const tx = await transmitter(env.dir);
  const tokenFile = join(env.dir, 'agent.jwt');
  const policyFile = join(env.dir, 'policy.yaml');
  writeFileSync(tokenFile, await env.mint({ user: options.user, actor: 'agent-7', nowMs: Date.now() - 10_000 }));
  writeFileSync(policyFile, options.policy);
  const agent = await startStdioWarden(env.dir, env.config({
    identity: env.identity({ token: { file: tokenFile }, ...(options.extraClaims ? { extraClaims: [...options.extraClaims] } : {}) }),
    policy: { files: [policyFile], watch: false },
    events: tx.section(),
    ...options.config,
  }));
  const eventsUrl = await eventually(() => loggedUrl(agent.stderr, 'security event receiver listening'));
  return { env, tx, agent, eventsUrl, control: await controlApi(env.adminTokenFile) };
}
