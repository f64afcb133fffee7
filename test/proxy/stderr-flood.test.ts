import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ChildStdioTransport } from '../../src/proxy/child-stdio-transport.js';
import { MAX_STDERR_LINE_CHARS } from '../../src/proxy/stderr-lines.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

/** A debug logger whose records land in `records` (the child's stderr is logged at debug). */
function capturingLogger() {
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), records };
}

// A child that writes `mib` MiB to stderr without a newline, then one short line, then waits.
const floodChild = (mib: number): string => `
  const chunk = 'x'.repeat(1024 * 1024);
  let left = ${mib};
  const next = () => {
    if (left-- > 0) return process.stderr.write(chunk, next);
    process.stderr.write('\\nafter the flood\\n');
  };
  next();
  setInterval(() => {}, 1000);
`;

describe('an upstream child writing endless stderr without a newline', () => {
  it('cannot grow warden memory: a stderr line is held and logged only up to a bound', async () => {
    const { logger, records } = capturingLogger();
    const transport = new ChildStdioTransport('flood', {
      command: process.execPath, args: ['-e', floodChild(16)], env: { PATH: process.env.PATH ?? '' }, cwd: undefined,
      maxMessageBytes: 1024 * 1024, maxBufferedOutputBytes: 1024 * 1024,
    }, logger);
    closers.push(() => transport.close());
    await transport.start();
    const stderrLines = (): string[] => records.filter((r) => r.msg === 'upstream stderr').map((r) => String(r.stderr));
    const deadline = Date.now() + 20_000;
    while (!stderrLines().includes('after the flood') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const lines = stderrLines();
    // The line after the flood still arrives whole: stderr keeps being read and logged.
    expect(lines).toContain('after the flood');
    // Nothing near the 16 MiB line was ever held for logging: only its first MAX_STDERR_LINE_CHARS.
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(MAX_STDERR_LINE_CHARS + 1);
    expect(lines.some((l) => l.startsWith('xxxx') && l.endsWith('…'))).toBe(true);
  }, 30_000);
});
