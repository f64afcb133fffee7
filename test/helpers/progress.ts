import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ProgressNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

export interface SeenProgress {
  progress: number;
  total?: number;
  message?: string;
  progressToken: string | number;
}

/**
 * Records every progress notification a client receives. Below the SDK's per-request `onprogress`
 * callback, which drops a notification read in the same chunk as its response (on direct
 * connections too). Call `callTool(..., { onprogress: () => undefined })` so a token is sent.
 */
export function collectProgress(client: Client): SeenProgress[] {
  const seen: SeenProgress[] = [];
  client.setNotificationHandler(ProgressNotificationSchema, (n) => void seen.push(n.params as SeenProgress));
  return seen;
}

/** Polls until `check()` holds (for notifications that arrive asynchronously). */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Retries `attempt` until it resolves (e.g. a call while an upstream restarts); its last error after `ms`. */
export async function eventuallyResolves<T>(attempt: () => Promise<T>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Polls `probe` until it gives a value (not undefined), and returns it; after `ms`, fails naming
 * `what` it was waiting for.
 */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
