import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { measureAuditFloor } from '../../bench/fixtures/audit-floor.js';
import { decodeRecord, GENESIS_HASH } from '../../src/audit/record-codec.js';

// The proxy bench compares warden with this floor: it only means something if the floor writes
// what the audit trail must write. Every line must be a canonical record with a valid hash,
// chained to the one before it.
it('the audit floor writes real records: canonical, hashed and chained', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-audit-floor-'));
  try {
    const floor = measureAuditFloor(dir, 20);
    expect(floor.criticalPathUs).toBeGreaterThan(0);
    expect(floor.totalUs).toBeGreaterThan(0);
    const lines = readFileSync(join(dir, 'audit-floor.jsonl'), 'utf8').trim().split('\n');
    let prev = GENESIS_HASH;
    for (const [i, line] of lines.entries()) {
      const decoded = decodeRecord(line);
      expect(decoded.kind, `line ${i + 1}`).toBe('ok');
      if (decoded.kind !== 'ok') return;
      expect(decoded.record.prev).toBe(prev);
      expect(decoded.record.seq).toBe(i + 1);
      prev = decoded.record.hash;
    }
    const types = lines.map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types.slice(0, 4)).toEqual(['call.received', 'call.risk', 'call.decision', 'call.result']);
    expect(types).toContain('call.forwarded');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
