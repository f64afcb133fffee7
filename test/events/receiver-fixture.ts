import type { EventsConfig, EventsConfigInput } from '../../src/events/events-config.js';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import { startEventReceiver, type EventReceiverHandle } from '../../src/events/event-receiver-server.js';
import type { SubjectEffect } from '../../src/events/registry-entry.js';
import type { SetReceiverDeps } from '../../src/events/set-receiver.js';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { SessionRegistry } from '../../src/sessions/session-registry.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { AUDIENCE, ISSUER, makeKey, MemoryAudit, principal, serveJwks, type TestKey } from './set-helpers.js';

export const NOW_SEC = 1_700_000_000;

export interface ReceiverFixture {
  readonly key: TestKey;
  readonly otherKey: TestKey;
  readonly receiver: EventReceiverHandle;
  readonly registry: SubjectRegistry;
  readonly sessions: SessionRegistry;
  readonly audit: MemoryAudit;
  readonly store: MemoryStateStore;
  readonly revoked: SubjectEffect[];
  readonly claimChanges: SubjectEffect[];
  readonly config: EventsConfig;
  now: number;
  close(): Promise<void>;
}

/** A receiver on a real loopback port, a JWKS server, a registry and a fake clock. */
export async function startFixture(overrides: Partial<EventsConfigInput> = {}, extra: Pick<SetReceiverDeps, 'tokenIssuers' | 'logger'> = {}): Promise<ReceiverFixture> {
  const key = await makeKey('k1');
  const otherKey = await makeKey('k1'); // same kid, untrusted key material
  const jwks = await serveJwks([key.jwk]);
  const config = EventsConfigSchema.parse({
    listen: { host: '127.0.0.1', port: 0 },
    transmitter: { issuer: ISSUER, audience: AUDIENCE, keys: { jwksUrl: jwks.url }, algorithms: ['ES256'] },
    ...overrides,
  });
  const audit = new MemoryAudit();
  const store = new MemoryStateStore();
  const sessions = new SessionRegistry();
  const revoked: SubjectEffect[] = [];
  const claimChanges: SubjectEffect[] = [];
  const fixture = { now: NOW_SEC * 1000 } as ReceiverFixture;
  const clock = () => fixture.now;
  const registry = new SubjectRegistry({
    settings: config,
    store,
    audit,
    clock,
    sessions,
    onRevoke: (e) => void revoked.push(e),
    onClaimsChange: (e) => void claimChanges.push(e),
  });
  sessions.opened({ sessionId: 'w-alice', principal: principal({ issuedAt: NOW_SEC - 600 }), transport: 'http', remoteAddress: '127.0.0.1', userAgent: 'ua', openedAt: NOW_SEC * 1000 - 60_000 });
  sessions.opened({ sessionId: 'w-bob', principal: principal({ user: 'bob', sessionId: 'idp-bob', claims: {} }), transport: 'stdio', remoteAddress: undefined, userAgent: undefined, openedAt: NOW_SEC * 1000 });
  const receiver = await startEventReceiver(config, { registry, audit, clock, store, ...extra });
  Object.assign(fixture, {
    key,
    otherKey,
    receiver,
    registry,
    sessions,
    audit,
    store,
    revoked,
    claimChanges,
    config,
    close: async () => {
      await receiver.close();
      await jwks.close();
    },
  });
  return fixture;
}
