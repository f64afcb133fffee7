import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { GENESIS_HASH, encodeRecord } from '../../src/audit/record-codec.js';
import { writeCheckpointFile } from '../../src/audit/checkpoint.js';
import { defaultCheckpointPath } from '../../src/audit/log-files.js';

/** What a generated log holds, so tests can assert exact counts without reading it back. */
export interface BigLog {
  readonly active: string;
  /** Oldest first, the active file last. */
  readonly files: readonly string[];
  readonly checkpoint: string;
  readonly records: number;
  readonly bytes: number;
  readonly calls: number;
  readonly decisions: Readonly<Record<string, number>>;
  /** Call ids of the rare user `carol`, in order. */
  readonly carolCalls: readonly string[];
}

const START = Date.UTC(2026, 10, 22, 10, 0, 0);
const PAD = 'lorem ipsum dolor sit amet ünïcode 漢字 🙂 '.repeat(40);

function principal(user: string): Record<string, unknown> {
  return { issuer: 'https://idp.example', user, actor: `${user}-agent`, actorChain: [`${user}-agent`, 'orchestrator'], clientId: 'cli', scopes: ['tools'], idpSessionId: null, tokenId: null, anonymous: false };
}

/** The records of call `i`: received (with ~1.5 KB of arguments), risk, decision and, unless blocked, a result. */
function callRecords(i: number): Record<string, unknown>[] {
  const user = i % 1000 === 7 ? 'carol' : i % 2 === 0 ? 'alice' : 'bob';
  const callId = `call-${i}`;
  const sessionId = `s-${user}`;
  const block = i % 10 === 3;
  const tool = block ? 'delete_file' : 'read_file';
  const out: Record<string, unknown>[] = [
    { type: 'call.received', callId, sessionId, principal: principal(user), upstream: 'fs', tool, args: { path: `/data/${i}`, note: PAD.slice(i % 50) }, argsDigest: `sha256:${'a'.repeat(64)}` },
    { type: 'call.risk', callId, sessionId, score: block ? 80 : 10, reasons: [], sensitivity: 'low' },
    { type: 'call.decision', callId, sessionId, action: block ? 'block' : 'allow', enforced: block ? 'block' : 'allow', mode: 'enforce', score: block ? 80 : 10, tool, rules: [] },
  ];
  if (!block) out.push({ type: 'call.result', callId, sessionId, status: 'ok', durationMs: 2, resultBytes: 10, resultItems: 1, resultDigest: 'none' });
  return out;
}

/**
 * Writes a valid chained, rotated log of at least `targetBytes` with the real record encoder
 * (fast: no sink, no fsync), plus a matching checkpoint. Files hold about `fileBytes` each.
 */
export function writeBigLog(dir: string, targetBytes: number, fileBytes: number): BigLog {
  const active = join(dir, 'warden-audit.jsonl');
  const files: string[] = [];
  const decisions: Record<string, number> = {};
  const carolCalls: string[] = [];
  let prev = GENESIS_HASH;
  let seq = 0;
  let bytes = 0;
  let fileSize = 0;
  let fd = -1;
  let batch: string[] = [];
  const flush = (): void => {
    writeSync(fd, batch.join(''));
    batch = [];
  };
  const nextFile = (): void => {
    if (fd >= 0) (flush(), closeSync(fd));
    files.push(join(dir, `warden-audit.${files.length + 1}.jsonl`));
    fd = openSync(files.at(-1) as string, 'w');
    fileSize = 0;
  };
  nextFile();
  let calls = 0;
  for (; bytes < targetBytes; calls++) {
    for (const fields of callRecords(calls)) {
      seq += 1;
      const { line, hash } = encodeRecord(fields, { seq, ts: new Date(START + seq).toISOString(), prev });
      prev = hash;
      const size = Buffer.byteLength(line);
      if (fileSize > 0 && fileSize + size > fileBytes) nextFile();
      batch.push(line);
      fileSize += size;
      bytes += size;
      if (batch.length >= 2000) flush();
      if (fields.type === 'call.decision') decisions[fields.action as string] = (decisions[fields.action as string] ?? 0) + 1;
      if (fields.type === 'call.received' && (fields.principal as { user: string }).user === 'carol') carolCalls.push(fields.callId as string);
    }
  }
  flush();
  closeSync(fd);
  renameSync(files.at(-1) as string, active);
  files[files.length - 1] = active;
  const checkpoint = defaultCheckpointPath(active);
  writeCheckpointFile(checkpoint, { v: 1, file: 'warden-audit.jsonl', seq, hash: prev, ts: new Date(START + seq).toISOString(), closed: true }, false);
  return { active, files, checkpoint, records: seq, bytes, calls, decisions, carolCalls };
}
