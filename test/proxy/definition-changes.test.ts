import { describe, expect, it } from 'vitest';
import { listJudgedAgainst } from '../../src/core/definition-lists.js';
import { DefinitionChanges } from '../../src/proxy/definition-changes.js';

describe('listJudgedAgainst: the list whose list_changed makes a waiting judgement stale', () => {
  it.each([
    ['tools/call', {}, 'tools'],
    ['prompts/get', { name: 'p' }, 'prompts'],
    ['resources/read', { uri: 'acme://x' }, 'resources'],
    ['resources/subscribe', { uri: 'acme://x' }, 'resources'],
    ['completion/complete', { ref: { type: 'ref/prompt', name: 'p' }, argument: {} }, 'prompts'],
    ['completion/complete', { ref: { type: 'ref/resource', uri: 'acme://{x}' }, argument: {} }, 'resources'],
    ['completion/complete', { ref: { type: 'ref/other' }, argument: {} }, undefined],
    ['completion/complete', null, undefined],
  ] as const)('%s %j → %s', (action, args, list) => {
    expect(listJudgedAgainst(action, args)).toBe(list);
  });
});

describe('DefinitionChanges', () => {
  it('counts each list on its own, says which, and ignores other notifications', () => {
    const c = new DefinitionChanges();
    expect(c.announced('notifications/tools/list_changed')).toBe('tools');
    expect(c.announced('notifications/tools/list_changed')).toBe('tools');
    expect(c.announced('notifications/prompts/list_changed')).toBe('prompts');
    expect(c.announced('notifications/resources/updated')).toBeUndefined();
    expect(c.announced('notifications/roots/list_changed')).toBeUndefined();
    expect({ tools: c.tools, prompts: c.prompts, resources: c.resources }).toEqual({ tools: 2, prompts: 1, resources: 0 });
  });
});
