import { afterEach, describe, expect, it } from 'vitest';
import { CAEP, mintSet, post, principal } from './set-helpers.js';
import { NOW_SEC, startFixture, type ReceiverFixture } from './receiver-fixture.js';

/**
 * A revocation's cut-off is the event time in the identity provider's clock. When that clock runs
 * ahead of warden's, the event time lies after the time warden receives the event, and so do the
 * `iat`s of the tokens issued just before it. Clamping the cut-off to receipt let those tokens
 * escape the revocation; the cut-off may be later than receipt by at most the transmitter's
 * clock tolerance (`events.clockToleranceSeconds`), never more: a forged or buggy far-future
 * event time must not revoke every token issued for the next hours.
 */
const TOLERANCE = 60; // the fixture's events.clockToleranceSeconds (the default)
const SKEW = 50; // the IdP's clock runs 50 s ahead of warden's

describe('revocation cut-off and a transmitter clock that runs ahead', () => {
  let f: ReceiverFixture | undefined;
  afterEach(async () => f?.close());

  it('revokes a token issued within the IdP clock skew before the event', async () => {
    f = await startFixture();
    // In the IdP's clock: token issued at +40, user signs out at +50, SET sent at +50.
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC + SKEW,
      subId: { format: 'opaque', id: 'skewed' },
      events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC + SKEW } },
    });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    const issuedBefore = principal({ user: 'skewed', issuedAt: NOW_SEC + 40 });
    expect(f.registry.evaluate(issuedBefore, 'w', f.now).kind).toBe('revoked');
    // The user signs in again after the event: that token works.
    expect(f.registry.evaluate(principal({ user: 'skewed', issuedAt: NOW_SEC + SKEW + 1 }), 'w', f.now)).toEqual({ kind: 'ok' });
  });

  it('revokes a token issued within the skew when the event time comes from the SET iat', async () => {
    f = await startFixture();
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC + SKEW,
      subId: { format: 'opaque', id: 'skewed-iat' },
      events: { [`${CAEP}credential-change`]: { change_type: 'revoke', credential_type: 'password' } },
    });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    expect(f.registry.evaluate(principal({ user: 'skewed-iat', issuedAt: NOW_SEC + 30 }), 'w', f.now).kind).toBe('revoked');
  });

  it('clamps a far-future event time to receipt plus the clock tolerance', async () => {
    f = await startFixture();
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'opaque', id: 'far-future' },
      events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC + 365 * 86_400 } },
    });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    const [entry] = f.registry.list(f.now);
    expect(entry?.at).toBe((NOW_SEC + TOLERANCE) * 1000);
    expect(f.registry.evaluate(principal({ user: 'far-future', issuedAt: NOW_SEC + TOLERANCE }), 'w', f.now).kind).toBe('revoked');
    expect(f.registry.evaluate(principal({ user: 'far-future', issuedAt: NOW_SEC + TOLERANCE + 1 }), 'w', f.now)).toEqual({ kind: 'ok' });
    expect(f.audit.ofType('event.effect').at(-1)).toMatchObject({ effect: 'revoke', at: (NOW_SEC + TOLERANCE) * 1000 });
  });

  it('keeps an entry whose cut-off lies ahead of receipt for the whole retention after its cut-off', async () => {
    f = await startFixture();
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC + SKEW,
      subId: { format: 'opaque', id: 'long-lived' },
      events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC + SKEW } },
    });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    const [entry] = f.registry.list(f.now);
    // A token issued at the cut-off lives up to the retention after it: the entry must outlive it.
    expect(entry?.expiresAt).toBeGreaterThanOrEqual((entry?.at ?? 0) + f.config.retentionSeconds * 1000);
  });
});

describe('a future-dated SET replayed once its jti is forgotten (restart, eviction)', () => {
  let f: ReceiverFixture | undefined;
  afterEach(async () => f?.close());

  it('cannot revoke tokens issued after the SET was issued (plus the clock tolerance)', async () => {
    f = await startFixture();
    const set = await mintSet({
      key: f.key,
      iatSec: NOW_SEC,
      subId: { format: 'opaque', id: 'replayed' },
      events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC + 365 * 86_400 } },
    });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    // An hour later the jti memory is gone (warden restarted; the memory store evicted it) and
    // someone replays the SET: still inside the replay window, so it is accepted and applied again.
    for (const k of await f.store.keys('events:jti:')) await f.store.delete(k);
    f.now = (NOW_SEC + 3600) * 1000;
    expect((await post(f.receiver.url, set)).status).toBe(202);
    // The user signed in again half an hour after the revocation: that token must keep working.
    expect(f.registry.evaluate(principal({ user: 'replayed', issuedAt: NOW_SEC + 1800 }), 'w', f.now)).toEqual({ kind: 'ok' });
    expect(f.registry.evaluate(principal({ user: 'replayed', issuedAt: NOW_SEC - 1 }), 'w', f.now).kind).toBe('revoked');
  });
});
