import { describe, expect, it } from 'vitest';
import { BodyBudget } from '../../src/proxy/body-budget.js';

const listen = { maxBodyBytes: 100, maxSessionsPerPrincipal: 2, maxSessions: 3 };

describe('BodyBudget', () => {
  it("stops one principal at its share (429) and leaves the rest of warden's budget to others", () => {
    const budget = new BodyBudget(listen);
    const a1 = budget.lease('alice');
    const a2 = budget.lease('alice');
    const a3 = budget.lease('alice');
    expect(a1.take(100)).toBeUndefined();
    expect(a2.take(100)).toBeUndefined();
    expect(a3.take(1)?.status).toBe(429);
    expect(budget.lease('bob').take(100)).toBeUndefined();
  });

  it('refuses every principal once the whole budget is held (503)', () => {
    const budget = new BodyBudget(listen);
    expect(budget.lease('alice').take(200)).toBeUndefined();
    expect(budget.lease('bob').take(100)).toBeUndefined();
    expect(budget.lease('carol').take(1)?.status).toBe(503);
  });

  it('gives a released body back once, and a refused take counts nothing', () => {
    const budget = new BodyBudget(listen);
    const a1 = budget.lease('alice');
    expect(a1.take(150)).toBeUndefined();
    const a2 = budget.lease('alice');
    expect(a2.take(60)?.status).toBe(429);
    expect(a2.take(50)).toBeUndefined();
    a1.release();
    a1.release();
    a2.release();
    const b = budget.lease('bob');
    expect(b.take(200)).toBeUndefined();
    expect(budget.lease('alice').take(100)).toBeUndefined();
    expect(budget.lease('alice').take(1)?.status).toBe(503);
  });

  it('always has room for one full body of a principal with nothing else being read', () => {
    const budget = new BodyBudget({ maxBodyBytes: 100, maxSessionsPerPrincipal: 1, maxSessions: 1 });
    const lease = budget.lease('alice');
    expect(lease.take(100)).toBeUndefined();
    lease.release();
    expect(budget.lease('alice').take(100)).toBeUndefined();
  });
});
