import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decision.js';
import { unknownToolMessage } from '../../src/core/decision-meta.js';
import type { ToolCallRequest } from '../../src/core/tool-call.js';
import { RESOURCE_READ_TOOL, virtualToolDefinition } from '../../src/core/virtual-tools.js';
import { createGuard } from '../../src/guard/create-guard.js';
import type { DecisionEngine, Enforcer, PinGate } from '../../src/guard/ports.js';
import { silentLogger } from '../../src/logging/logger.js';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';
import { createRecordingAudit } from '../helpers/recording-audit.js';

/**
 * A guard whose engine allows everything and remembers what it judged, and whose pins would hold
 * every call (a floor of block, a poisoned description) if they were asked.
 */
function guardWithHeldPins() {
  const judged: ToolCallRequest[] = [];
  const pinLookups: string[] = [];
  const engine: DecisionEngine = {
    decide: (req) => (judged.push(req), decision({ action: 'allow', enforced: 'allow', rules: [], reasons: [] }) as Decision),
    observeOutcome: () => undefined,
    isHidden: () => false,
    redact: (value) => ({ redacted: value, digest: 'sha256:x' }),
  };
  const enforcer: Enforcer = {
    enforce: (_req, d) => (d.enforced === 'allow' ? { kind: 'forward' } : { kind: 'respond', result: { isError: true, content: [], enforced: d.enforced } }),
    blockResult: () => ({ isError: true, content: [] }),
  };
  const pins: PinGate = {
    // The listing would show it: only the virtual name keeps it out of tools/list.
    listing: () => ({ listed: true }),
    verdict: (_u, tool) => (pinLookups.push(tool), { action: 'block', reasons: [{ code: 'tool.new_unpinned', weight: 0, detail: 'held' }] }),
    risk: (_u, tool) => (pinLookups.push(tool), [{ code: 'tool.poisoned_description', weight: 40, detail: 'poisoned' }]),
    observe: () => undefined,
  };
  const audit = createRecordingAudit();
  const guard = createGuard({ engine, enforcer, audit, pins, clock: () => 1_000, logger: silentLogger() });
  return { guard, audit, judged, pinLookups };
}

const read = (uri: string): Partial<ToolCallRequest> => ({
  action: 'resources/read',
  upstream: 'acme',
  tool: RESOURCE_READ_TOOL,
  exposedName: RESOURCE_READ_TOOL,
  arguments: { uri },
  toolDefinition: virtualToolDefinition('resources/read'),
});

describe('the virtual tool resources/read in the guard', () => {
  it('judges a read as a call of resources/read with { uri }, without the tool pins (they hold no definition of it)', async () => {
    const { guard, judged, pinLookups, audit } = guardWithHeldPins();
    const verdict = await guard.checkToolCall(callRequest(read('acme://files/docs/readme.txt')).req);
    expect(verdict.kind).toBe('forward');
    expect(judged.map((r) => [r.action, r.tool, r.arguments])).toEqual([['resources/read', 'resources/read', { uri: 'acme://files/docs/readme.txt' }]]);
    expect(pinLookups).toEqual([]);
    expect(audit.ofType('call.received')[0]).toMatchObject({ tool: 'resources/read', args: { uri: 'acme://files/docs/readme.txt' } });
  });

  it('refuses an upstream tool named resources/read as unknown: it cannot borrow the rules, grants or counters written for reads', async () => {
    const { guard, judged, audit } = guardWithHeldPins();
    const { req } = callRequest({ action: 'tools/call', upstream: 'acme', tool: 'resources/read', exposedName: 'resources/read', arguments: { uri: 'x' } });
    const verdict = await guard.checkToolCall(req);
    expect(verdict).toEqual({ kind: 'error', code: -32602, message: unknownToolMessage('resources/read') });
    expect(judged).toEqual([]);
    expect(audit.ofType('call.decision')[0]).toMatchObject({ action: 'block', hidden: true, reason: 'virtual_tool_name', tool: 'resources/read' });
  });

  it('never lists an upstream tool named resources/read (nor prompts/get)', () => {
    const { guard } = guardWithHeldPins();
    const p = callRequest().req.principal;
    expect(guard.isToolVisible!(p, 's', 'acme', 'resources/read')).toBe(false);
    expect(guard.isToolVisible!(p, 's', 'acme', 'prompts/get')).toBe(false);
  });

  it('refuses an upstream tool named prompts/get as unknown: it cannot borrow the rules written for prompt fetches', async () => {
    const { guard, judged } = guardWithHeldPins();
    const verdict = await guard.checkToolCall(callRequest({ action: 'tools/call', upstream: 'acme', tool: 'prompts/get', exposedName: 'prompts/get', arguments: { name: 'x' } }).req);
    expect(verdict).toEqual({ kind: 'error', code: -32602, message: unknownToolMessage('prompts/get') });
    expect(judged).toEqual([]);
  });

  it('judges a prompt fetch as a call of prompts/get with { name, arguments }, without the tool pins', async () => {
    const { guard, judged, pinLookups } = guardWithHeldPins();
    const args = { name: 'summarize_customer', arguments: { name: 'Ada' } };
    const verdict = await guard.checkToolCall(callRequest({ action: 'prompts/get', upstream: 'acme', tool: 'prompts/get', exposedName: 'prompts/get', arguments: args, toolDefinition: virtualToolDefinition('prompts/get') }).req);
    expect(verdict.kind).toBe('forward');
    expect(judged.map((r) => [r.action, r.tool, r.arguments])).toEqual([['prompts/get', 'prompts/get', args]]);
    expect(pinLookups).toEqual([]);
  });

  it('refuses a virtual call whose tool is not its action (a proxy bug must not judge an upstream tool as a read)', async () => {
    const { guard, judged } = guardWithHeldPins();
    const verdict = await guard.checkToolCall(callRequest({ ...read('acme://x'), tool: 'delete_record' }).req);
    expect(verdict).toMatchObject({ kind: 'error', code: -32602 });
    expect(judged).toEqual([]);
  });

  it('the same tool name as an upstream tool still gets the tool pins (only the virtual tool skips them)', async () => {
    const { guard, pinLookups } = guardWithHeldPins();
    const verdict = await guard.checkToolCall(callRequest({ action: 'tools/call', upstream: 'acme', tool: 'read_file', exposedName: 'read_file' }).req);
    expect(verdict.kind).toBe('respond');
    expect(pinLookups).toEqual(['read_file', 'read_file']);
  });
});

describe('the virtual tools completion/complete and resources/subscribe in the guard', () => {
  it('refuses upstream tools named completion/complete or resources/subscribe as unknown, and never lists them: they cannot borrow the rules written for completions and subscriptions', async () => {
    for (const name of ['completion/complete', 'resources/subscribe']) {
      const { guard, judged, audit } = guardWithHeldPins();
      const verdict = await guard.checkToolCall(callRequest({ action: 'tools/call', upstream: 'acme', tool: name, exposedName: name, arguments: {} }).req);
      expect(verdict).toEqual({ kind: 'error', code: -32602, message: unknownToolMessage(name) });
      expect(judged).toEqual([]);
      expect(audit.ofType('call.decision')[0]).toMatchObject({ action: 'block', hidden: true, reason: 'virtual_tool_name', tool: name });
      expect(guard.isToolVisible!(callRequest().req.principal, 's', 'acme', name)).toBe(false);
    }
  });

  it('judges a completion as a call of completion/complete with { ref, argument }, and a subscription as resources/subscribe with { uri }, without the tool pins', async () => {
    const { guard, judged, pinLookups } = guardWithHeldPins();
    const completion = { ref: { type: 'ref/prompt', name: 'summarize_customer' }, argument: { name: 'name', value: 'Cu' } };
    for (const [action, args] of [['completion/complete', completion], ['resources/subscribe', { uri: 'acme://files/docs/readme.txt' }]] as const) {
      const verdict = await guard.checkToolCall(callRequest({ action, upstream: 'acme', tool: action, exposedName: action, arguments: args, toolDefinition: virtualToolDefinition(action) }).req);
      expect(verdict.kind).toBe('forward');
    }
    expect(judged.map((r) => [r.action, r.tool, r.arguments])).toEqual([
      ['completion/complete', 'completion/complete', completion],
      ['resources/subscribe', 'resources/subscribe', { uri: 'acme://files/docs/readme.txt' }],
    ]);
    expect(pinLookups).toEqual([]);
  });
});
