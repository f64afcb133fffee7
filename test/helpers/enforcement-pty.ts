import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** A program running in a real pseudo-terminal: read the screen, type keys. */
export interface PtyProgram {
  /** Everything written to the terminal so far (raw, with escape sequences). */
  screen(): string;
  /** Screen output since the mark (see {@link PtyProgram.mark}). */
  since(mark: number): string;
  /** The current length of the screen output, to look only at what comes next. */
  mark(): number;
  type(keys: string): void;
  waitFor(text: string | RegExp, opts?: { after?: number; timeoutMs?: number }): Promise<void>;
  readonly exited: Promise<number | null>;
  kill(): void;
}

const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `command args` inside a pseudo-terminal via util-linux `script -qfec … /dev/null`, so the
 * program sees a TTY on stdin and stdout exactly as with a human at the keyboard.
 */
export function spawnInPty(command: string, args: readonly string[]): PtyProgram {
  const proc: ChildProcessWithoutNullStreams = spawn('script', ['-qfec', [command, ...args].map(quote).join(' '), '/dev/null'], {
    stdio: 'pipe',
    env: { ...process.env, TERM: 'xterm' },
  });
  let out = '';
  const waiters = new Set<() => void>();
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    screen: () => out,
    since: (mark) => out.slice(mark),
    mark: () => out.length,
    type: (keys) => void proc.stdin.write(keys),
    waitFor: (text, opts = {}) =>
      new Promise<void>((resolve, reject) => {
        const from = opts.after ?? 0;
        const seen = (): boolean => (typeof text === 'string' ? out.slice(from).includes(text) : text.test(out.slice(from)));
        if (seen()) return resolve();
        const check = (): void => {
          if (!seen()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${String(text)}; screen:\n${out.slice(from)}`));
        }, opts.timeoutMs ?? 15_000);
        waiters.add(check);
      }),
    exited,
    kill: () => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
  };
}
