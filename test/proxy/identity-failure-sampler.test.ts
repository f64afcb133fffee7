import { describe, expect, it } from 'vitest';
import { IdentityFailureSampler, type SamplerLimits, type SuppressedSummary } from '../../src/proxy/identity-failure-sampler.js';

const LIMITS: SamplerLimits = { perSource: 3, total: 5, windowMs: 60_000, maxSources: 4, topSources: 2 };

function sampler(limits: SamplerLimits = LIMITS) {
  const summaries: SuppressedSummary[] = [];
  const clock = { now: 1_000_000 };
  const s = new IdentityFailureSampler((x) => summaries.push(x), () => clock.now, limits);
  return { s, summaries, clock };
}
const admitted = (s: IdentityFailureSampler, n: number, address: string | undefined, reason = 'token_missing') =>
  Array.from({ length: n }, () => s.admit(address, reason)).filter(Boolean).length;

describe('identity failure sampler (HTTP identity.failed records)', () => {
  it('an unauthenticated flood from one address gets its first failures recorded and the rest counted in one summary', () => {
    const { s, summaries, clock } = sampler();
    expect(admitted(s, 1000, '203.0.113.9')).toBe(3);
    expect(summaries).toEqual([]);
    clock.now += 60_000;
    // The next window starts fresh and writes the last window's summary first.
    expect(s.admit('203.0.113.9', 'token_missing')).toBe(true);
    expect(summaries).toEqual([{ transport: 'http', since: 1_000_000, until: 1_060_000, count: 997, reasons: { token_missing: 997 }, sources: 1, top: [{ remoteAddress: '203.0.113.9', count: 997 }] }]);
    s.close();
  });

  it('one noisy address cannot use up the records of the others; all addresses together are capped too', () => {
    const { s, summaries } = sampler();
    expect(admitted(s, 50, '203.0.113.9')).toBe(3);
    expect(admitted(s, 1, '198.51.100.7')).toBe(1);
    expect(admitted(s, 5, '192.0.2.1', 'signature_invalid')).toBe(1); // the total of 5 is reached
    s.close();
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ count: 47 + 4, reasons: { token_missing: 47, signature_invalid: 4 }, sources: 2, top: [{ remoteAddress: '203.0.113.9', count: 47 }, { remoteAddress: '192.0.2.1', count: 4 }] });
  });

  it('an address sweep (fresh IPv6 addresses) past the tracked sources is still counted, without growing the table', () => {
    const { s, summaries } = sampler({ ...LIMITS, total: 1000 });
    let recorded = 0;
    for (let i = 0; i < 100; i++) recorded += admitted(s, 1, `2001:db8::${i.toString(16)}`);
    expect(recorded).toBe(4); // only maxSources addresses are told apart
    s.close();
    expect(summaries[0]).toMatchObject({ count: 96, sources: 0, top: [] });
  });

  it('writes nothing when nothing was suppressed, and closing writes the last window', () => {
    const { s, summaries } = sampler();
    expect(admitted(s, 3, undefined)).toBe(3);
    s.close();
    expect(summaries).toEqual([]);
    expect(admitted(s, 4, undefined)).toBe(3);
    s.close();
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.top).toEqual([{ remoteAddress: 'unknown', count: 1 }]);
  });

  it('the summary is written when the window ends even if no further failure arrives', async () => {
    const summaries: SuppressedSummary[] = [];
    const s = new IdentityFailureSampler((x) => summaries.push(x), Date.now, { ...LIMITS, windowMs: 50 });
    expect(admitted(s, 5, '203.0.113.9')).toBe(3);
    await new Promise((r) => setTimeout(r, 120));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.count).toBe(2);
    s.close();
    expect(summaries).toHaveLength(1);
  });
});
