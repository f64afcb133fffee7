import { sha256Hex } from '../core/canonical-json.js';
import { principalKey, type Principal } from '../core/principal.js';

/**
 * A bounded key fragment for an untrusted value: short values as they are (cheap), longer ones
 * as a hash, so a huge argument can never become a huge key. The prefixes keep the two apart.
 */
function fragment(value: string): string {
  return value.length <= 64 ? `r:${value}` : `h:${sha256Hex(value).slice(0, 32)}`;
}

/** Store keys of the signals area. Argument values enter keys only through fragment(). */
export const keys = {
  pair: (p: Principal) => principalKey(p),
  user: (p: Principal) => `${p.issuer}|${p.user}`,
  rateTool: (pk: string, upstream: string, tool: string) => `sig:rate:tool:${pk}:${upstream}/${tool}`,
  rateClass: (pk: string, cls: string) => `sig:rate:class:${pk}:${cls}`,
  rateAll: (pk: string) => `sig:rate:all:${pk}`,
  rateUser: (uk: string) => `sig:rate:user:${uk}`,
  burst: (pk: string) => `sig:burst:${pk}`,
  userBurst: (uk: string) => `sig:burst:user:${uk}`,
  bytes: (pk: string) => `sig:vol:bytes:${pk}`,
  items: (pk: string) => `sig:vol:items:${pk}`,
  resources: (pk: string) => `sig:vol:res:${pk}`,
  userBytes: (uk: string) => `sig:vol:ubytes:${uk}`,
  userItems: (uk: string) => `sig:vol:uitems:${uk}`,
  resourceSeen: (pk: string, upstream: string, tool: string, value: string) =>
    `sig:vol:seen:${pk}:${upstream}/${tool}:${fragment(value)}`,
  toolSeen: (pk: string, upstream: string, tool: string) => `sig:nov:tool:${pk}:${upstream}/${tool}`,
  valueSeen: (uk: string, name: string, value: string) => `sig:nov:arg:${uk}:${name}:${fragment(value)}`,
  session: (sessionId: string) => `sig:sess:${sessionId}`,
};
