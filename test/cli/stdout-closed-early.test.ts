import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { WARDEN_MAIN } from '../helpers/paths.js';

/** `warden policy schema | head -1`: the reader leaves early; warden stops quietly, no stack trace. */
function withReaderGone(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WARDEN_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a CLI whose stdout reader closes early', () => {
  it('ends quietly with exit 0 instead of an EPIPE stack trace', async () => {
    const r = await withReaderGone(['policy', 'schema']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
