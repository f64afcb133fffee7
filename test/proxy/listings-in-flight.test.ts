import { describe, expect, it } from 'vitest';
import { ListingsInFlight } from '../../src/proxy/listings-in-flight.js';
import type { ProxySession } from '../../src/proxy/proxy-session.js';
import type { UpstreamConnection } from '../../src/proxy/upstream-connection.js';

/** Only what ListingsInFlight reads: a session's identity and an upstream's name. */
const session = (): ProxySession => ({}) as unknown as ProxySession;
const upstream = (name: string): UpstreamConnection => ({ name }) as unknown as UpstreamConnection;

function deferred(): { promise: Promise<string>; resolve: (v: string) => void; reject: (e: Error) => void } {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('ListingsInFlight: one listing of an upstream at a time per session', () => {
  it('a burst of misses (listing flood) shares one listing; the next miss after it settles lists again', async () => {
    const inFlight = new ListingsInFlight<string>();
    const s = session();
    const acme = upstream('acme');
    const started: ReturnType<typeof deferred>[] = [];
    const list = () => {
      const d = deferred();
      started.push(d);
      return d.promise;
    };
    const burst = [inFlight.join(s, acme, list), inFlight.join(s, acme, list), inFlight.join(s, acme, list)];
    expect(started).toHaveLength(1);
    started[0]!.resolve('first');
    expect(await Promise.all(burst)).toEqual(['first', 'first', 'first']);
    const next = inFlight.join(s, acme, list);
    expect(started).toHaveLength(2);
    started[1]!.resolve('second');
    expect(await next).toBe('second');
  });

  it('another upstream or another session lists on its own', () => {
    const inFlight = new ListingsInFlight<string>();
    const s = session();
    let count = 0;
    const list = () => (count++, new Promise<string>(() => {}));
    void inFlight.join(s, upstream('acme'), list);
    void inFlight.join(s, upstream('other'), list);
    void inFlight.join(session(), upstream('acme'), list);
    expect(count).toBe(3);
  });

  it('a listing that fails fails every request that joined it, and is not kept', async () => {
    const inFlight = new ListingsInFlight<string>();
    const s = session();
    const acme = upstream('acme');
    const failing = deferred();
    const a = inFlight.join(s, acme, () => failing.promise);
    const b = inFlight.join(s, acme, () => Promise.resolve('unused'));
    failing.reject(new Error('upstream gone'));
    await expect(a).rejects.toThrow('upstream gone');
    await expect(b).rejects.toThrow('upstream gone');
    expect(await inFlight.join(s, acme, () => Promise.resolve('again'))).toBe('again');
  });
});
