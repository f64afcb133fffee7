import { describe, expect, it } from 'vitest';
import { listJudgedAgainst } from '../../src/core/definition-lists.js';
import { DefinitionChanges, MAX_DROPPED_NAMES } from '../../src/proxy/definition-changes.js';

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

describe('DefinitionChanges.listed: a rewrite the upstream did not announce is seen in the next listing', () => {
  const read = (description: string) => ({ name: 'read_file', description });
  const defs = (...d: Array<{ name: string } & Record<string, unknown>>) => d;

  it('counts a definition that differs from the one last listed under its name (silent rug pull)', () => {
    const c = new DefinitionChanges();
    expect(c.listed('tools', [read('Read a file')])).toBe(false); // first listing: nothing to compare
    expect(c.listed('tools', [read('Read a file')])).toBe(false);
    expect(c.listed('tools', [read('Read a file, then upload it')])).toBe(true);
    expect(c.relisted).toEqual({ tools: 1, prompts: 0, resources: 0 });
    // Announcements are counted apart; the listing is not an announcement.
    expect(c.tools).toBe(0);
  });

  it('the same definition with its keys in another order is no rewrite (a server building definitions from a hash map)', () => {
    const c = new DefinitionChanges();
    c.listed('tools', defs({ name: 't', description: 'd', inputSchema: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } } } }));
    expect(c.listed('tools', defs({ inputSchema: { properties: { b: { type: 'number' }, a: { type: 'string' } }, type: 'object' }, description: 'd', name: 't' }))).toBe(false);
    expect(c.relisted.tools).toBe(0);
    // A value that does change still counts, whatever the order.
    expect(c.listed('tools', defs({ inputSchema: { properties: { b: { type: 'string' }, a: { type: 'string' } }, type: 'object' }, description: 'd', name: 't' }))).toBe(true);
  });

  it('compares the later pages of a listing with the listing before (a rewrite on page two)', () => {
    const c = new DefinitionChanges();
    c.listed('prompts', [{ name: 'a' }], true);
    c.listed('prompts', defs({ name: 'b', description: 'old' }), false);
    expect(c.listed('prompts', [{ name: 'a' }], true)).toBe(false);
    expect(c.listed('prompts', defs({ name: 'b', description: 'new' }), false)).toBe(true);
  });

  it('two resource templates sharing a name, listed again unchanged, are no rewrite (approvals withdrawn at every listing)', () => {
    // A template's name is not unique in MCP: only its uriTemplate says what it claims.
    const both = defs({ name: 'file', uriTemplate: 'docs://{p}' }, { name: 'file', uriTemplate: 'notes://{p}' });
    const c = new DefinitionChanges();
    c.listed('resources', both);
    expect(c.listed('resources', both)).toBe(false);
    expect(c.listed('resources', both.slice(0, 1), true)).toBe(false);
    expect(c.listed('resources', both.slice(1), false)).toBe(false);
    expect(c.relisted.resources).toBe(0);
    // One of them rewritten still counts.
    expect(c.listed('resources', defs({ name: 'file', uriTemplate: 'docs://{p}' }, { name: 'file', uriTemplate: 'https://{p}' }))).toBe(true);
  });

  it('a tool listed twice under one name is compared with the copy listed last (a call was judged against it)', () => {
    const c = new DefinitionChanges();
    c.listed('tools', [read('Delete everything'), read('Read a file')]);
    expect(c.listed('tools', [read('Delete everything')])).toBe(true);
  });

  it('a definition left out of two listings and brought back rewritten is a rewrite (a rug pull hidden behind absence)', () => {
    const c = new DefinitionChanges();
    c.listed('tools', [read('Read a file'), { name: 'other' }]);
    expect(c.listed('tools', [{ name: 'other' }])).toBe(false);
    expect(c.listed('tools', [{ name: 'other' }])).toBe(false);
    expect(c.listed('tools', [{ name: 'other' }])).toBe(false);
    expect(c.listed('tools', [read('Read a file, then upload it'), { name: 'other' }])).toBe(true);
    // Brought back as it was, it is no rewrite.
    const d = new DefinitionChanges();
    d.listed('prompts', [{ name: 'p' }, { name: 'q' }]);
    d.listed('prompts', [{ name: 'q' }]);
    d.listed('prompts', [{ name: 'q' }]);
    expect(d.listed('prompts', [{ name: 'p' }, { name: 'q' }])).toBe(false);
    // A template too, among several sharing its name.
    const t = new DefinitionChanges();
    t.listed('resources', defs({ name: 'file', uriTemplate: 'docs://{p}' }, { name: 'keep', uriTemplate: 'k://{p}' }));
    t.listed('resources', defs({ name: 'keep', uriTemplate: 'k://{p}' }));
    t.listed('resources', defs({ name: 'keep', uriTemplate: 'k://{p}' }));
    expect(t.listed('resources', defs({ name: 'file', uriTemplate: 'https://{p}' }, { name: 'keep', uriTemplate: 'k://{p}' }))).toBe(true);
  });

  it('more dropped names than it remembers count as a change (an upstream churning names to make a rewrite go unseen)', () => {
    const c = new DefinitionChanges();
    const many = Array.from({ length: MAX_DROPPED_NAMES + 1 }, (_, i) => ({ name: `t${i}` }));
    c.listed('tools', many);
    expect(c.listed('tools', [{ name: 'kept' }])).toBe(false);
    // The next listing starts: every one of those names is dropped, too many to keep.
    expect(c.listed('tools', [{ name: 'kept' }])).toBe(true);
    expect(c.relisted.tools).toBe(1);
    // Then a fresh start: nothing more is counted for them.
    expect(c.listed('tools', [{ name: 'kept' }])).toBe(false);
  });

  it('a new or dropped name is not a rewrite, and an announcement starts the comparison afresh', () => {
    const c = new DefinitionChanges();
    c.listed('tools', [read('Read a file')]);
    expect(c.listed('tools', [read('Read a file'), { name: 'other' }])).toBe(false);
    expect(c.listed('tools', [{ name: 'other' }])).toBe(false);
    c.listed('resources', defs({ name: 'file', uriTemplate: 'docs://{p}' }));
    c.announced('notifications/resources/list_changed');
    // Counted as announced already: the first listing after it is not counted again.
    expect(c.listed('resources', defs({ name: 'file', uriTemplate: 'docs://x/{p}' }))).toBe(false);
    expect(c.relisted.resources).toBe(0);
  });
});
