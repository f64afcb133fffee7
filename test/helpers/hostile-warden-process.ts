import { spawn, spawnSync } from 'node:child_process';
import { ANSWER_MS } from './hostile-raw-agent.js';
import { WARDEN_MAIN } from './paths.js';
import { writeTempConfig } from './warden-process.js';

type Message = Record<string, unknown>;

/**
 * `warden run --config <temp file>` as a child process whose stdin/stdout the test drives with raw
 * lines (an agent that can send anything, e.g. 1e400, which JSON.stringify can never produce).
 * Everything warden logs (stderr, pino JSON) is kept; `exitCode` is set if the process ends.
 */
export async function spawnRawWarden(config: Record<string, unknown>) {
  const configFile = writeTempConfig(config);
  const child = spawn(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Message[] = [];
  const stderr: string[] = [];
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    const parts = out.split('\n');
    out = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Message);
  });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
    const parts = err.split('\n');
    err = parts.pop() ?? '';
    stderr.push(...parts.filter(Boolean));
  });
  child.stdin.on('error', () => undefined); // warden gone: the next check reports it

  const waitFor = async (predicate: (m: Message) => boolean, timeoutMs = ANSWER_MS): Promise<Message> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find(predicate);
      if (found) return found;
      if (exitCode !== undefined) throw new Error(`warden exited with ${exitCode}: ${stderr.slice(-5).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`no answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  let next = 0;
  const exchange = (line: string, id: string): Promise<Message> => {
    child.stdin.write(`${line}\n`);
    return waitFor((m) => m.id === id && !('method' in m));
  };
  const request = (method: string, params: unknown = {}): Promise<Message> => {
    const id = `p${++next}`;
    return exchange(JSON.stringify({ jsonrpc: '2.0', id, method, params }), id);
  };
  return {
    configFile,
    lines,
    stderr,
    get exitCode() {
      return exitCode;
    },
    exchange,
    request,
    /** Writes one line and waits for nothing (a notification, or a request answered later). */
    send: (line: string): void => void child.stdin.write(`${line}\n`),
    answersFor: (id: string): Message[] => lines.filter((m) => m.id === id && !('method' in m)),
    /** A logged URL (control API, SET receiver) once warden has started that surface. */
    loggedUrl: async (msg: string): Promise<string> => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        for (const line of stderr) {
          const rec = JSON.parse(line) as { msg?: string; url?: string };
          if (rec.msg === msg && rec.url) return rec.url;
        }
        if (exitCode !== undefined || Date.now() > deadline) throw new Error(`warden never logged '${msg}': ${stderr.slice(-5).join('\n')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    /** Warden answers ping itself: it is alive and serving this agent. */
    alive: async (): Promise<boolean> => exitCode === undefined && 'result' in (await request('ping')),
    stop: async (): Promise<void> => {
      if (exitCode !== undefined) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `warden audit verify <file> --json`: exit code and the parsed report. */
export function verifyAudit(auditFile: string): { code: number | null; report: unknown } {
  const r = spawnSync(process.execPath, [WARDEN_MAIN, 'audit', 'verify', auditFile, '--json'], { encoding: 'utf8', timeout: 30_000 });
  let report: unknown;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    report = r.stdout + r.stderr;
  }
  return { code: r.status, report };
}
