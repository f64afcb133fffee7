import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, Namespacer } from '../../src/proxy/namespacing.js';

describe('Namespacer', () => {
  it('leaves names untouched with one upstream', () => {
    const ns = new Namespacer(['acme']);
    expect(ns.expose('acme', 'echo')).toEqual({ ok: true, exposed: 'echo' });
    expect(ns.resolve('anything')).toEqual({ upstream: 'acme', name: 'anything' });
  });

  it('prefixes names with several upstreams and resolves them back', () => {
    const ns = new Namespacer(['fs', 'acme']);
    expect(ns.expose('fs', 'read_file')).toEqual({ ok: true, exposed: 'fs__read_file' });
    expect(ns.resolve('fs__read_file')).toEqual({ upstream: 'fs', name: 'read_file' });
    expect(ns.resolve('acme__not_listed_yet')).toEqual({ upstream: 'acme', name: 'not_listed_yet' });
    expect(ns.resolve('other__x')).toBeUndefined();
    expect(ns.resolve('read_file')).toBeUndefined();
  });

  it('shortens names over 64 characters deterministically', () => {
    const ns = new Namespacer(['fs', 'acme']);
    const long = 'x'.repeat(80);
    const a = ns.expose('acme', long);
    const b = new Namespacer(['fs', 'acme']).expose('acme', long);
    expect(a.ok && a.exposed.length).toBe(64);
    expect(a).toEqual(b);
    expect(ns.resolve((a as { exposed: string }).exposed)).toEqual({ upstream: 'acme', name: long });
  });

  it('refuses names outside the MCP tool-name alphabet (homoglyph or space)', () => {
    const ns = new Namespacer(['fs', 'acme']);
    expect(ns.expose('acme', 'rеad_file').ok).toBe(false); // Cyrillic е
    expect(ns.expose('acme', 'read file').ok).toBe(false);
  });

  it('reports a collision instead of silently routing to the wrong upstream', () => {
    // Config validation forbids '__' in upstream names; the namespacer still refuses on its own.
    const ns = new Namespacer(['a', 'a__b']);
    expect(ns.expose('a', 'b__c')).toEqual({ ok: true, exposed: 'a__b__c' });
    const clash = ns.expose('a__b', 'c');
    expect(clash.ok).toBe(false);
    expect(ns.resolve('a__b__c')).toEqual({ upstream: 'a', name: 'b__c' });
  });
});

describe('composite cursor', () => {
  it('round-trips and rejects foreign upstream names', () => {
    const c = encodeCursor({ fs: '2', acme: 'abc' })!;
    expect(decodeCursor(c, ['fs', 'acme'])).toEqual({ fs: '2', acme: 'abc' });
    expect(decodeCursor(c, ['fs'])).toBeUndefined();
    expect(encodeCursor({})).toBeUndefined();
    expect(decodeCursor('%%%', ['fs'])).toBeUndefined();
  });
});
