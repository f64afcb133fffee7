import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditEventType } from '../../src/audit/audit-sink.js';
import { auditEvent } from '../../src/audit/events.js';
import { AUDIT_FIELD_SPEC, matchShape, readmeFieldsOf } from '../helpers/audit-field-spec.js';
import { REPO_ROOT } from '../helpers/paths.js';

/**
 * The audit schema is promised "documented in the README, stable, and versioned". These checks keep
 * the README record table equal to AUDIT_FIELD_SPEC (which the compiler holds equal to
 * AuditEventFields), and keep producers on the typed builder. What real scenarios write is checked
 * against the same spec in test/e2e/audit/audit-event-coverage.test.ts.
 */

/** Splits a Markdown table row on `|` that is not escaped as `\|`. */
function cells(row: string): string[] {
  return row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
}

/** Drops parenthesised notes (values, explanations), nested or not. */
function withoutNotes(text: string): string {
  let out = text;
  for (let prev = ''; prev !== out; ) {
    prev = out;
    out = out.replace(/\([^()]*\)/g, '');
  }
  return out;
}

/** `type → field names` from the README's event field table; `?` when every mention has it. */
function readmeTable(): Map<string, string[]> {
  const lines = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').split('\n');
  const at = lines.findIndex((l, i) => l.trim() === '| type | fields |' && lines[i + 2]?.startsWith('| `warden.start`'));
  expect(at, 'README has the record table (| type | fields |)').toBeGreaterThan(0);
  const table = new Map<string, string[]>();
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break;
    const [typeCell = '', fieldsCell = ''] = cells(line);
    const type = /^`([^`]+)`$/.exec(typeCell)?.[1];
    expect(type, `type cell of: ${line}`).toBeDefined();
    const mentions = [...withoutNotes(fieldsCell).matchAll(/`([A-Za-z][A-Za-z0-9]*)(?:\[\])?(\?)?`/g)];
    const names = new Map<string, boolean>();
    for (const [, name, optional] of mentions) names.set(name!, (names.get(name!) ?? true) && optional === '?');
    table.set(type!, [...names].map(([n, opt]) => (opt ? `${n}?` : n)).sort());
  }
  return table;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('audit event fields: one truth for map, producers and README', () => {
  it('the README record table lists exactly the documented fields of every type, one row per type', () => {
    const table = readmeTable();
    const types = Object.keys(AUDIT_FIELD_SPEC) as AuditEventType[];
    expect([...table.keys()].sort()).toEqual([...types].sort());
    for (const type of types) expect(table.get(type), type).toEqual(readmeFieldsOf(type));
  });

  it('no producer in src/ builds an audit record by hand (only auditEvent() is checked against the map)', () => {
    // The sink's own audit.recovered records are the one exception: the sink is not a producer.
    const allowed = new Set(['src/audit/file-audit-sink.ts']);
    const handBuilt = /\b(?:record|audit|recordLifecycle)\(\s*\{\s*type\s*:/;
    const offenders = sourceFiles(join(REPO_ROOT, 'src'))
      .map((f) => relative(REPO_ROOT, f))
      .filter((f) => !allowed.has(f) && handBuilt.test(readFileSync(join(REPO_ROOT, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('matchShape accepts a documented record and names what is missing or undocumented', () => {
    const ok = auditEvent('call.throttle', { callId: 'c1', sessionId: 's1', outcome: 'admitted', waitedMs: 3 });
    expect(matchShape({ ...ok, v: 1, seq: 1, ts: 't', prev: 'p', hash: 'h' })).toEqual({ ok: true, shape: 'admitted' });
    // The drift this guards against: the old map's names on a throttle record.
    const drifted = matchShape({ type: 'call.throttle', callId: 'c1', outcome: 'waited', waitMs: 3, key: 'tool' });
    expect(drifted.ok).toBe(false);
    expect(!drifted.ok && drifted.problem).toContain('undocumented [waitMs, key]');
    expect(matchShape({ type: 'event.received', accepted: true, duplicate: false, eventId: 'j', issuer: 'i', eventTypes: [], txn: undefined })).toEqual({ ok: true, shape: 'accepted' });
  });
});
