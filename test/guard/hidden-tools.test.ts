import { describe, expect, it } from 'vitest';
import { unknownToolMessage } from '../../src/core/decision-meta.js';
import { buildUnknownToolError } from '../../src/enforce/block-result.js';
import { createGuard } from '../../src/guard/create-guard.js';
import type { DecisionEngine, Enforcer } from '../../src/guard/ports.js';
import { silentLogger } from '../../src/logging/logger.js';
import { callRequest } from '../fixtures/enforce/call-fixtures.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';

/** A guard whose engine hides `fs.delete` and must never be asked to decide a hidden call. */
function guardHiding(hidden: string) {
  let decided = 0;
  const engine: DecisionEngine = {
    decide: async () => {
      decided += 1;
      throw new Error('a hidden tool must not reach the decision');
    },
    observeOutcome: async () => undefined,
    isHidden: (_p, _u, tool) => {
      if (tool === 'boom') throw new Error('predicate fault');
      return tool === hidden;
    },
    redact: (value) => ({ redacted: value, digest: 'sha256:x' }),
  };
  const enforcer: Enforcer = {
    enforce: async () => ({ kind: 'forward' }),
    blockResult: () => ({ isError: true, content: [] }),
  };
  const audit = createRecordingAudit();
  const guard = createGuard({ engine, enforcer, audit, clock: () => 1_000, logger: silentLogger() });
  return { guard, audit, decided: () => decided };
}

describe('hidden tools', () => {
  it('answers -32602 for a hidden tool exactly like an unknown one', async () => {
    const { guard, audit, decided } = guardHiding('delete');
    const { req } = callRequest({ tool: 'delete', exposedName: 'fs.delete' });
    const verdict = await guard.checkToolCall(req);
    expect(verdict).toEqual(buildUnknownToolError('fs.delete'));
    expect(verdict).toEqual({ kind: 'error', code: -32602, message: unknownToolMessage('fs.delete') });
    expect(decided()).toBe(0);
    expect(audit.ofType('call.decision')[0]).toMatchObject({ action: 'block', hidden: true });
  });

  it('lists only visible tools, and a predicate fault hides (the proxy refuses the list)', () => {
    const { guard } = guardHiding('delete');
    const p = callRequest().req.principal;
    expect(guard.isToolVisible!(p, 's', 'fs', 'read')).toBe(true);
    expect(guard.isToolVisible!(p, 's', 'fs', 'delete')).toBe(false);
    expect(() => guard.isToolVisible!(p, 's', 'fs', 'boom')).toThrow();
  });
});
