import { describe, expect, it } from 'vitest';
import { ApprovalsConfigSchema } from '../../src/approval/approvals-config.js';
import { createEnforcement } from '../../src/enforce/enforcement.js';
import { ThrottleConfigSchema } from '../../src/enforce/throttle-config.js';
import { silentLogger } from '../../src/logging/logger.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { callRequest, decision, RecordingAudit } from '../fixtures/enforce/call-fixtures.js';

describe('createEnforcement', () => {
  it('wires throttle, approvals (with the given display reasons) and routes into one enforce()', async () => {
    const audit = new RecordingAudit();
    const e = createEnforcement(
      { throttle: ThrottleConfigSchema.parse({}), approvals: ApprovalsConfigSchema.parse({}) },
      {
        audit,
        store: new MemoryStateStore(),
        logger: silentLogger(),
        display: () => ({ reasons: [{ code: 'custom', detail: 'shown to approvers' }] }),
      },
    );
    expect(e.routes.map((r) => `${r.method} ${r.path}`)).toContain('GET /approvals/stream');
    expect((await e.enforce(callRequest().req, decision({ action: 'throttle', enforced: 'throttle' }))).kind).toBe('forward');
    const asked = new Promise<string>((resolve) => e.approvals.subscribe((ev) => ev.type === 'requested' && resolve(ev.approval.id)));
    const verdict = e.enforce(callRequest().req, decision());
    const id = await asked;
    expect(await e.approvals.getPending(id)).toMatchObject({ arguments: { path: '/tmp/x', content: 'secret-content' }, reasons: [{ code: 'custom', detail: 'shown to approvers' }] });
    await e.approvals.answer(id, { kind: 'allow_once' }, { kind: 'admin', id: 'admin' });
    expect((await verdict).kind).toBe('forward');
    e.close();
  });
});
