import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAEP, ISSUER, mintSet, post, principal } from './set-helpers.js';
import { NOW_SEC, startFixture, type ReceiverFixture } from './receiver-fixture.js';

/**
 * RFC 9493 `aliases`: several identifiers of one subject. A revocation naming the subject this way
 * must reach a principal that any supported identifier in the list names; answered with no effect,
 * the revocation missed the very user it was about.
 */
describe('aliases subjects', () => {
  let f: ReceiverFixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(async () => f.close());

  it('session-revoked with an aliases subject revokes the user named by one of its identifiers', async () => {
    const subId = {
      format: 'aliases',
      identifiers: [
        { format: 'phone_number', phone_number: '+12065550100' },
        { format: 'iss_sub', iss: ISSUER, sub: 'alice' },
      ],
    };
    const set = await mintSet({ key: f.key, iatSec: NOW_SEC, subId, events: { [`${CAEP}session-revoked`]: { event_timestamp: NOW_SEC } } });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    expect(f.registry.evaluate(principal({ issuedAt: NOW_SEC - 600 }), 'w-x', f.now).kind).toBe('revoked');
    expect(f.registry.evaluate(principal({ user: 'bob', issuedAt: NOW_SEC - 600 }), 'w-y', f.now).kind).toBe('ok');
  });

  it('an aliases subject whose identifiers are all unsupported has no effect, and says why', async () => {
    const before = f.registry.list().length;
    const subId = { format: 'aliases', identifiers: [{ format: 'phone_number', phone_number: '+12065550100' }] };
    const set = await mintSet({ key: f.key, iatSec: NOW_SEC, subId, events: { [`${CAEP}session-revoked`]: {} } });
    expect((await post(f.receiver.url, set)).status).toBe(202);
    expect(f.registry.list().length).toBe(before);
    expect(f.audit.ofType('event.effect').at(-1)).toMatchObject({ effect: 'none' });
  });
});
