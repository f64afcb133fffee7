import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { WARDEN_MAIN } from './demo-setup.js';

/** The fields of a pending approval (GET /approvals) the demo uses. */
interface Pending {
  readonly id: string;
  readonly callId: string;
  readonly tool: string;
  readonly argsDigest: string;
  readonly score: number;
  readonly principal: { user: string; actor?: string };
  readonly arguments?: unknown;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until warden advertised its control API URL (written once the API listens). */
export async function waitForControlUrl(file: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const url = readFileSync(file, 'utf8').trim();
      if (url !== '') return url;
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`warden did not advertise its control URL in ${file}`);
    await sleep(50);
  }
}

/** Someone who answers the demo's one approval request. */
export interface Approver {
  /** Resolves once the request was answered (or the approver gave up). */
  readonly done: Promise<void>;
  stop(): void;
}

/**
 * Stands in for a human when no terminal is attached: polls the control API's pending list and
 * allows the first request for `tool`, bound to the exact call (callId + argument digest) it saw.
 */
export function scriptedApprover(url: string, adminToken: string, tool: string, print: (line: string) => void): Approver {
  let stopped = false;
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const done = (async () => {
    while (!stopped) {
      const res = await fetch(`${url}/approvals`, { headers });
      const { approvals } = (await res.json()) as { approvals: Pending[] };
      const p = approvals.find((a) => a.tool === tool);
      if (p) {
        const answer = await fetch(`${url}/approvals/${p.id}/allow`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ callId: p.callId, argsDigest: p.argsDigest }),
        });
        const body = (await answer.json()) as { ok?: boolean; error?: string };
        print(body.ok
          ? `           scripted approver: allowed ${p.id} (${p.principal.user} via ${p.principal.actor ?? '-'}: ${p.tool} ${JSON.stringify(p.arguments)}, score ${p.score})`
          : `           scripted approver: answer refused: ${body.error ?? answer.status}`);
        return;
      }
      await sleep(100);
    }
  })();
  return { done, stop: () => void (stopped = true) };
}

/**
 * A terminal is attached: run the real `warden approve` console in it. The console keeps
 * running after an answer, so the demo stops it once the call came back, and restores the
 * terminal mode the console left in raw.
 */
export function consoleApprover(url: string, adminTokenFile: string): Approver & { readonly child: ChildProcess } {
  const child = spawn(process.execPath, [WARDEN_MAIN, 'approve', '--url', url, '--token-file', adminTokenFile], { stdio: 'inherit' });
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    done,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
    },
  };
}
