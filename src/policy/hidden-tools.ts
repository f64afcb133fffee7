import type { Principal } from '../core/principal.js';
import type { CompiledPolicy } from './compiled-policy.js';

/**
 * True when the tool can never be called by this principal: an enforce-mode `hide: true` block
 * rule matches it on names and identity alone (hide rules cannot use arguments or score, which
 * the schema enforces). tools/list uses it to hide the tool. A monitor-mode policy hides nothing.
 */
export function isToolHidden(policy: CompiledPolicy, principal: Principal, upstream: string, tool: string): boolean {
  if (policy.mode === 'monitor') return false;
  for (const rule of policy.lookup(upstream, tool).rules) {
    if (!rule.hide || rule.mode !== 'enforce') continue;
    if (!rule.principal || rule.principal(principal)) return true;
  }
  return false;
}
