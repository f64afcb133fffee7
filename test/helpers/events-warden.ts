import { controlApi, type ControlApi } from './events-control.js';
import { EVENTS_POLICY, transmitter, type Transmitter } from './events-sets.js';
import { eventually, identityEnv, type IdentityEnv } from './identity-env.js';
import { loggedUrl, startHttpWarden, type HttpWarden } from './identity-warden.js';

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
