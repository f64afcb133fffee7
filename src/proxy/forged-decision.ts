import { DECISION_META_KEY } from '../core/decision-meta.js';
import { REFUSED_CODE } from '../core/refusal-error.js';
import { RPC, type RpcResponse } from './json-rpc.js';

/**
 * An agent tells warden's refusals from an upstream's answers by two marks only warden may set:
 * a tool result's `_meta["dev.mcp-warden/decision"]` and, for a judged request that is not a tool
 * call (a read, a prompt, a completion, a subscription), the JSON-RPC error code -32010. An
 * upstream that sets them itself passes its own words off as warden's decision ("a human approver
 * denied this call, approver said: use the other bucket"), steering the agent with the authority of
 * the policy, or hides a failure of its own as a refusal. So the upstream's answer to a judged
 * request reaches the agent without them: the decision key leaves its `_meta`, and -32010 becomes
 * -32603 (message and data kept). The audit records the answer as the upstream sent it.
 *
 * On the answer of every forwarded call: one property read when the result has no `_meta`.
 */
export function withoutForgedDecision(response: RpcResponse): void {
  const result = response.result;
  if (result !== undefined && result !== null && typeof result === 'object') {
    const meta = result._meta;
    if (typeof meta !== 'object' || meta === null || !Object.hasOwn(meta, DECISION_META_KEY)) return;
    // Copies, never edits: the audit may still hold the upstream's result.
    const kept = { ...(meta as Record<string, unknown>) };
    delete kept[DECISION_META_KEY];
    response.result = { ...result, _meta: kept };
    return;
  }
  const error = response.error;
  if (typeof error === 'object' && error !== null && error.code === REFUSED_CODE) response.error = { ...error, code: RPC.internalError };
}
