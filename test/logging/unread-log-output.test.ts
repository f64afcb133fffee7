import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT as ROOT } from '../helpers/paths.js';

const LOGGER = pathToFileURL(join(ROOT, 'dist/src/logging/logger.js')).href;
const LIMIT = 1024 * 1024;

// A process that logs ~8 MB to its stderr (a pipe the test does not read yet), reports how much
// its destination holds unwritten, then waits for its buffer to drain and exits.
const LOGGING_PROCESS = `
import { createLogger } from ${JSON.stringify(LOGGER)};
import pino from 'pino';
const logger = createLogger({ maxBufferBytes: ${LIMIT} });
const stream = logger[pino.symbols.streamSym];
const line = 'x'.repeat(1000);
for (let i = 0; i < 8000; i++) logger.info({ i }, line);
process.send({ held: stream._len });
stream.once('drain', () => setTimeout(() => process.exit(0), 50));
`;

describe('log output nobody reads', () => {
  it("an agent host that never reads warden's stderr cannot grow warden's memory without bound: lines past the limit are dropped and counted", async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', LOGGING_PROCESS], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const stderr = child.stderr;
    if (stderr === null) throw new Error('stderr is piped');
    stderr.pause();
    const held = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { held: number }).held));
      child.once('exit', (code) => reject(new Error(`exited ${code} before reporting`)));
    });
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(LIMIT);

    let out = '';
    stderr.setEncoding('utf8');
    stderr.on('data', (chunk: string) => (out += chunk));
    stderr.resume();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; droppedLines?: number; i?: number });
    const written = lines.filter((l) => l.i !== undefined).length;
    const notice = lines.find((l) => l.droppedLines !== undefined);
    expect(notice?.msg).toMatch(/log line\(s\) dropped: the log output was not being read/);
    // Every line is either written or counted as dropped.
    expect(written + (notice?.droppedLines ?? 0)).toBe(8000);
    expect(written).toBeLessThan(8000);
  }, 20_000);
});
