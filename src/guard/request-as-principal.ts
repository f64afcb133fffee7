import type { Principal } from '../core/principal.js';
import type { ToolCallRequest } from '../core/tool-call.js';

/**
 * `req` judged as `principal` (a security event changed its claims). Not a spread of `req`: the
 * proxy's request is a class whose `signal` getter and its `definitionsChanged` and
 * `upstreamRestarted` methods live on its prototype, and a spread drops them. Without the signal,
 * a call that had to wait (the throttle queue, an approval) failed inside enforcement, so a
 * claims change turned throttling and approvals into blocks for that user; without the checks, a
 * definition rewritten, or an upstream restarted, while the call was judged would go unnoticed.
 * All are read through `req` itself.
 */
export function requestAsPrincipal(req: ToolCallRequest, principal: Principal): ToolCallRequest {
  const changed = req.definitionsChanged;
  const restarted = req.upstreamRestarted;
  return {
    ...req,
    principal,
    get signal(): AbortSignal {
      return req.signal;
    },
    ...(changed === undefined ? {} : { definitionsChanged: (): boolean => changed.call(req) }),
    ...(restarted === undefined ? {} : { upstreamRestarted: (): boolean => restarted.call(req) }),
  };
}
