import { spawn } from 'node:child_process';
import { WARDEN_MAIN } from './paths.js';
import { until } from './progress.js';
import { writeTempConfig } from './warden-process.js';

type Message = Record<string, unknown>;

/**
 * `warden run --config <temp file>` as a child process whose stdout the test reads line by line
 * and can stop reading (`stopReading()`): an agent that no longer reads what warden writes.
 */
export function spawnPausableWarden(config: Record<string, unknown>) {
  const child = spawn(process.execPath, [WARDEN_MAIN, 'run', '--config', writeTempConfig(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Message[] = [];
  const stderr: string[] = [];
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  child.stdin.on('error', () => undefined); // warden gone: the test's checks report it
  splitLines(child.stdout, (line) => lines.push(JSON.parse(line) as Message));
  splitLines(child.stderr, (line) => stderr.push(line));
  let next = 0;

  const answerTo = async (id: string, ms = 5_000): Promise<Message> => {
    let found: Message | undefined;
    await until(() => (found = lines.find((m) => m.id === id && !('method' in m))) !== undefined || exitCode !== undefined, ms);
    if (!found) throw new Error(`warden exited (${exitCode}) before answering ${id}: ${stderr.slice(-3).join('\n')}`);
    return found;
  };
  /** Writes a request without waiting; returns its id. */
  const send = (method: string, params: unknown = {}): string => {
    const id = `s${++next}`;
    child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    return id;
  };
  return {
    pid: child.pid!,
    stderr,
    get exitCode() {
      return exitCode;
    },
    send,
    answerTo,
    request: (method: string, params: unknown = {}): Promise<Message> => answerTo(send(method, params)),
    notify: (method: string): void => void child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method }) + '\n'),
    /** The agent stops reading warden's stdout: the pipe fills and warden's writes back up. */
    stopReading: (): void => void child.stdout.pause(),
    stop: async (): Promise<void> => {
      if (exitCode !== undefined) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) onLine(p);
  });
}
