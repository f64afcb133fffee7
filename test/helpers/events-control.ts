import { readFileSync } from 'node:fs';
import { controlUrlFileFor } from '../../src/control/control-url-file.js';
import { eventually } from './identity-env.js';

export interface PendingApproval {
  readonly id: string;
  readonly tool: string;
  readonly sessionId: string;
  readonly principal: { user: string };
  readonly reasons: { code: string }[];
}

export interface ControlApi {
  readonly url: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<{ status: number; json: T }>;
  pending(): Promise<PendingApproval[]>;
  /** Waits until a pending approval for `tool` (and user) shows up. */
  waitPending(tool: string, user?: string): Promise<PendingApproval>;
}

/** The running warden's control API, found like the CLIs find it: the control-url file beside the admin token. */
export async function controlApi(adminTokenFile: string): Promise<ControlApi> {
  const url = await eventually(() => {
    try {
      return readFileSync(controlUrlFileFor(adminTokenFile), 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  });
  const token = readFileSync(adminTokenFile, 'utf8').trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const api: ControlApi = {
    url,
    get: async <T>(path: string) => (await (await fetch(`${url}${path}`, { headers })).json()) as T,
    post: async <T>(path: string, body: unknown) => {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as T };
    },
    pending: async () => (await api.get<{ approvals: PendingApproval[] }>('/approvals')).approvals,
    waitPending: async (tool, user) => {
      const end = Date.now() + 8000;
      for (;;) {
        const found = (await api.pending()).find((p) => p.tool === tool && (user === undefined || p.principal.user === user));
        if (found) return found;
        if (Date.now() > end) throw new Error(`no pending approval for ${tool}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    },
  };
  return api;
}
