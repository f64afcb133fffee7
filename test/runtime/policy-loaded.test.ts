import { describe, expect, it, vi } from 'vitest';
import type { AuditSink } from '../../src/audit/audit-sink.js';
import { silentLogger } from '../../src/logging/logger.js';
import { policyLoadedListener } from '../../src/runtime/policy-loaded.js';
import { policyFrom } from '../helpers/policy-helpers.js';

const OLD = policyFrom('version: old\nrules: [{ id: pay, match: { tools: [pay] }, action: approve }]\n');
const NEW = policyFrom('version: new\nrules: [{ id: pay, match: { tools: [pay] }, action: block }]\n');

/**
 * A reload takes effect even when its `policy.loaded` record cannot be written (the policy
 * holder logs the failure and keeps the new policy). The record was written first and the
 * withdrawal of the old policy's approvals came after it in the same listener, so an audit
 * outage during a reload left approvals asked under the old policy pending: once the sink was
 * healthy again an approver's "allow" forwarded a call the new policy blocks.
 */
describe('a reload withdraws the previous policy\'s approvals even when the audit sink fails', () => {
  it('withdraws, then reports the audit failure', () => {
    const failing: AuditSink = {
      record: () => {
        throw new Error('EIO');
      },
      healthy: () => false,
      close: async () => undefined,
    };
    const withdraw = vi.fn();
    const onLoad = policyLoadedListener({ audit: failing, logger: silentLogger(), files: ['p.yaml'], withdrawStale: () => withdraw });
    expect(() => onLoad(NEW, OLD)).toThrow('EIO');
    expect(withdraw).toHaveBeenCalledWith(NEW.hash);
  });

  it('records the load and withdraws nothing at start-up', () => {
    const events: unknown[] = [];
    const sink: AuditSink = { record: (e) => void events.push(e), healthy: () => true, close: async () => undefined };
    const withdraw = vi.fn();
    policyLoadedListener({ audit: sink, logger: silentLogger(), files: ['p.yaml'], withdrawStale: () => withdraw })(OLD, undefined);
    expect(events).toHaveLength(1);
    expect(withdraw).not.toHaveBeenCalled();
  });
});

describe('a reload re-judges standing subscriptions', () => {
  it('after the reload took effect, even when its record cannot be written; never at start-up', async () => {
    const failing: AuditSink = {
      record: () => {
        throw new Error('EIO');
      },
      healthy: () => false,
      close: async () => undefined,
    };
    const recheck = vi.fn(async () => undefined);
    const onLoad = policyLoadedListener({ audit: failing, logger: silentLogger(), files: ['p.yaml'], withdrawStale: () => undefined, recheckStanding: () => recheck });
    expect(() => onLoad(OLD, undefined)).toThrow('EIO');
    expect(recheck).not.toHaveBeenCalled();
    expect(() => onLoad(NEW, OLD)).toThrow('EIO');
    expect(recheck).toHaveBeenCalledTimes(1);
  });
});
