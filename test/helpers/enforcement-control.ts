import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Grant, PendingApproval } from '../../src/approval/approval-types.js';

/** A pending approval as `GET /approvals` shows it. */
export type PendingView = PendingApproval & { readonly expiresInMs: number };

export interface ControlReply<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
}

/** One server-sent event from `GET /approvals/stream`. */
export interface StreamEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A scripted approver: drives warden's control API over HTTP exactly as an operator tool would
 * (bearer credential, JSON bodies). Not a mock: it talks to the running warden process.
 */
export class ControlApi {
  constructor(
    readonly url: string,
    readonly adminToken: string,
  ) {}

  /** Finds the URL a running warden advertised beside its admin token file (waits for it). */
  static async open(adminTokenFile: string, timeoutMs = 10_000): Promise<ControlApi> {
    const urlFile = join(dirname(adminTokenFile), 'control-url');
    const end = Date.now() + timeoutMs;
    while (!existsSync(urlFile) || readFileSync(urlFile, 'utf8').trim() === '') {
      if (Date.now() > end) throw new Error(`no control-url file at ${urlFile}`);
      await sleep(25);
    }
    return new ControlApi(readFileSync(urlFile, 'utf8').trim(), readFileSync(adminTokenFile, 'utf8').trim());
  }

  /** One request; `token` overrides the admin credential (named approvers). */
  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token = this.adminToken): Promise<ControlReply<T>> {
    const res = await fetch(this.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T };
  }

  async pending(): Promise<PendingView[]> {
    const r = await this.request<{ approvals: PendingView[] }>('GET', '/approvals');
    if (r.status !== 200) throw new Error(`GET /approvals → ${r.status}`);
    return r.body.approvals;
  }

  /**
   * Polls until a pending approval matches (a human would see it appear). Pass the agent's call:
   * if it settles first (it was never held), fail at once with what the agent got.
   */
  async waitForPending(match: (p: PendingView) => boolean, call?: Promise<unknown>, timeoutMs = 15_000): Promise<PendingView> {
    const end = Date.now() + timeoutMs;
    let settled: string | undefined;
    call?.then(
      (r) => (settled = `resolved ${JSON.stringify(r)}`),
      (e: unknown) => (settled = `rejected ${String(e)}`),
    );
    for (;;) {
      const found = (await this.pending()).find(match);
      if (found) return found;
      if (settled !== undefined) throw new Error(`the call was never held for approval: it ${settled}`);
      if (Date.now() > end) throw new Error('no matching pending approval appeared');
      await sleep(25);
    }
  }

  allow(id: string, body: Record<string, unknown> = {}, token?: string): Promise<ControlReply> {
    return this.request('POST', `/approvals/${encodeURIComponent(id)}/allow`, body, token);
  }

  deny(id: string, body: Record<string, unknown> = {}, token?: string): Promise<ControlReply> {
    return this.request('POST', `/approvals/${encodeURIComponent(id)}/deny`, body, token);
  }

  async grants(): Promise<Grant[]> {
    return (await this.request<{ grants: Grant[] }>('GET', '/grants')).body.grants;
  }

  /** Subscribes to `GET /approvals/stream`; events accumulate in `events` until `close()`. */
  async stream(): Promise<ApprovalStream> {
    const abort = new AbortController();
    const res = await fetch(`${this.url}/approvals/stream`, { headers: { authorization: `Bearer ${this.adminToken}`, accept: 'text/event-stream' }, signal: abort.signal });
    if (res.status !== 200 || !res.body) throw new Error(`GET /approvals/stream → ${res.status}`);
    return new ApprovalStream(res.body, abort);
  }
}

/** Server-sent events of the approval stream, parsed as they arrive. */
export class ApprovalStream {
  readonly events: StreamEvent[] = [];

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly abort: AbortController,
  ) {
    void this.pump(body);
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          this.parse(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch {
      // aborted by close()
    }
  }

  private parse(block: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (data.length > 0) this.events.push({ event, data: JSON.parse(data.join('\n')) as Record<string, unknown> });
  }

  /** Waits until an event matches. */
  async waitFor(match: (e: StreamEvent) => boolean, timeoutMs = 10_000): Promise<StreamEvent> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (Date.now() > end) throw new Error(`no matching stream event; saw ${JSON.stringify(this.events)}`);
      await sleep(20);
    }
  }

  close(): void {
    this.abort.abort();
  }
}
