import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { ControlResponse, ControlRoute } from '../control/control-route.js';
import type { ManualTarget, SubjectRegistry } from '../events/subject-registry.js';
import type { SessionRegistry } from './session-registry.js';

function badRequest(description: string): ControlResponse {
  return { status: 400, body: { error: 'invalid_request', description } };
}

/** Exactly one of user / session / agent, a non-empty string without control characters. */
export function parseRevokeTarget(body: unknown): ManualTarget | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length !== 1) return 'give exactly one of user, session, agent';
  const [key, value] = entries[0] as [string, unknown];
  if (key !== 'user' && key !== 'session' && key !== 'agent') return `unknown key '${key}'`;
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.length === 0 || value.length > 512 || /[\u0000-\u001f\u007f]/.test(value)) {
    return `${key} must be a non-empty string`;
  }
  return { [key]: value } as ManualTarget;
}

/**
 * Control API routes for operators: `GET /sessions` lists active sessions; `GET /revocations` lists
 * standing revocations, step-ups and claim overrides; `POST /revoke` revokes
 * a user, a warden session or an agent now (the registry's onRevoke hook closes sessions and
 * withdraws pending approvals).
 */
export function sessionRoutes(sessions: SessionRegistry, registry: SubjectRegistry, clock: Clock = systemClock): ControlRoute[] {
  return [
    {
      method: 'GET',
      path: '/sessions',
      handle: async () => ({ status: 200, body: { sessions: sessions.views(clock()) } }),
    },
    {
      method: 'GET',
      path: '/revocations',
      handle: async () => ({
        status: 200,
        body: {
          entries: registry.list(clock()).map((e) => ({ id: e.id, kind: e.kind, subject: e.match, at: e.at, eventId: e.eventId, reason: e.reason, expiresAt: e.expiresAt })),
        },
      }),
    },
    {
      method: 'POST',
      path: '/revoke',
      handle: async ({ body, caller }) => {
        const target = parseRevokeTarget(body);
        if (typeof target === 'string') return badRequest(target);
        const { entry, sessionIds, saved } = await registry.revokeManually(target, `${caller.kind}:${caller.id}`);
        return {
          status: 200,
          // saved: false = in force now, but not in the revocations file, so a restart forgets it.
          body: { revoked: { id: entry.id, subject: entry.match, at: entry.at, eventId: entry.eventId }, sessionIds, saved },
        };
      },
    },
  ];
}
