import { describe, expect, it } from 'vitest';
import { anomalyReasons } from '../../src/risk/anomalies.js';
import { scoreOf, thresholdAction } from '../../src/risk/score.js';
import { policyFrom, principal, signals } from '../helpers/policy-helpers.js';

const NOW = Date.UTC(2026, 0, 5, 10, 0, 0);
const P = policyFrom(`
version: 1
anomalies:
  rate: { perTool: 5, perClass: { pay: 3 }, overall: 10, perUser: 20, weight: 11 }
  burst: { factor: 5, minBaseline: 2, minSamples: 3, weight: 12 }
  volume: { maxBytes: 100, maxItems: 10, maxDistinctResources: 5, weight: 13 }
  novelty: { toolWeight: 14, arguments: [{ name: payee, tools: [pay], path: payee, weight: 15 }] }
  context: { addressChangeWeight: 16, clientChangeWeight: 17 }
`);
const codes = (s: ReturnType<typeof signals>, cls = 'pay') =>
  anomalyReasons(P.anomalies, s, principal(), cls, NOW).map((r) => `${r.code}:${r.weight}`);

describe('anomaly reasons (each named and weighted)', () => {
  const rows: [string, ReturnType<typeof signals>, string[]][] = [
    ['quiet', signals(), []],
    ['at the limit is fine', signals({ rate: { tool: 5, toolClass: 3, overall: 10, user: 20 } }), []],
    ['over every rate limit', signals({ rate: { tool: 6, toolClass: 4, overall: 11, user: 21 } }), ['rate.tool:11', 'rate.class:11', 'rate.overall:11', 'rate.user:11']],
    ['burst needs enough history', signals({ burst: { current: 50, baseline: 1, samples: 2 } }), []],
    ['burst uses the baseline floor', signals({ burst: { current: 9, baseline: 1, samples: 3 } }), []],
    ['burst at factor x baseline', signals({ burst: { current: 10, baseline: 1, samples: 3 } }), ['burst.rate:12']],
    ['user burst across agents', signals({ burst: { user: { current: 10, baseline: 2, samples: 4 } } }), ['burst.user:12']],
    ['volume over limits', signals({ volume: { bytes: 101, items: 11, distinctResources: 6 } }), ['volume.bytes:13', 'volume.items:13', 'volume.resources:13']],
    ['novelty', signals({ novelty: { tool: true, arguments: ['payee'] } }), ['novelty.tool:14', 'novelty.argument:15']],
    ['context change', signals({ context: { addressChanged: true, clientChanged: true } }), ['context.address_changed:16', 'context.client_changed:17']],
    ['unhealthy store', signals({ storeHealthy: false }), ['state.unavailable:0']],
  ];
  it.each(rows)('%s', (_n, s, want) => {
    expect(codes(s)).toEqual(want);
  });
  it('class limits only apply to their class', () => {
    expect(codes(signals({ rate: { toolClass: 50 } }), 'other')).toEqual([]);
  });
  it('a class named like an Object.prototype member is not a limit', () => {
    expect(codes(signals({ rate: { toolClass: 50 } }), 'constructor')).toEqual([]);
  });
});

describe('score', () => {
  it('sums weights, rounds and clamps to 0..100', () => {
    expect(scoreOf([{ code: 'a', weight: 10.4, detail: '' }, { code: 'b', weight: 20, detail: '' }])).toBe(30);
    expect(scoreOf([{ code: 'a', weight: 80, detail: '' }, { code: 'b', weight: 80, detail: '' }])).toBe(100);
    expect(scoreOf([])).toBe(0);
  });
  it('maps to actions through inclusive thresholds', () => {
    const t = { throttle: 50, approve: 70, block: 90 };
    expect([0, 49, 50, 69, 70, 89, 90, 100].map((s) => thresholdAction(s, t))).toEqual([
      'allow', 'allow', 'throttle', 'throttle', 'approve', 'approve', 'block', 'block',
    ]);
  });
});
