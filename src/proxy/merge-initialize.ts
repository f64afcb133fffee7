import type { UpstreamConnection } from './upstream-connection.js';
import { withoutTasks } from './unsupported-tasks.js';

type Caps = Record<string, unknown>;

/** How MCP names its protocol versions: the date of the revision (`2025-06-18`). */
const PROTOCOL_VERSION = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Builds the agent's `initialize` result: warden's own serverInfo, the upstream's capabilities
 * (one upstream, untouched) or their union (several: sub-flags such as `listChanged` OR-ed),
 * without `tasks` (see unsupported-tasks.ts).
 */
export function mergeInitializeResults(
  upstreams: readonly UpstreamConnection[],
  serverInfo: { name: string; version: string },
): Record<string, unknown> {
  const results = upstreams.map((u) => u.initializeResult ?? {});
  if (results.length === 1) {
    const only = results[0]!;
    return { ...only, ...(isObject(only.capabilities) ? { capabilities: withoutTasks(only.capabilities) } : {}), serverInfo };
  }
  const capabilities: Caps = {};
  for (const r of results) mergeCaps(capabilities, (r.capabilities as Caps | undefined) ?? {});
  // The oldest version any of them speaks. Only a version shaped as MCP names them (a date) is
  // compared: sorted as text, one upstream's bogus version (`!`, `0`) came first and was handed
  // to the agent, whose client then refused the whole session.
  const versions = results.map((r) => r.protocolVersion).filter((v): v is string => typeof v === 'string' && PROTOCOL_VERSION.test(v)).sort();
  const instructions = upstreams
    .map((u, i) => (typeof results[i]!.instructions === 'string' ? `## ${u.name}\n${withoutHeadings(results[i]!.instructions)}` : undefined))
    .filter((s): s is string => s !== undefined);
  const merged: Record<string, unknown> = { protocolVersion: versions[0], capabilities: withoutTasks(capabilities), serverInfo };
  if (instructions.length > 0) merged.instructions = instructions.join('\n\n');
  return merged;
}

/**
 * Upstream capabilities are untrusted JSON: JSON.parse makes `"__proto__"` an own key, and
 * assigning it (`target[key] = ...`) sets the prototype; reading `target["__proto__"]` then
 * returns Object.prototype, and writing a flag into that pollutes every object in warden. Keys
 * are therefore read only when own and written only by definition: plain keys, passed through.
 */
function mergeCaps(target: Caps, source: Caps): void {
  for (const [key, value] of Object.entries(source)) {
    const current = ownValue(target, key);
    if (isObject(value) && isObject(current)) {
      for (const [sub, flag] of Object.entries(value)) {
        const had = ownValue(current, sub);
        setOwn(current, sub, typeof flag === 'boolean' ? Boolean(had) || flag : (had ?? flag));
      }
    } else if (isObject(value)) {
      setOwn(target, key, { ...value });
    } else if (current === undefined) {
      setOwn(target, key, value);
    }
  }
}

function ownValue(obj: Caps, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function setOwn(obj: Caps, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isObject(v: unknown): v is Caps {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * An upstream's instructions inside its `## <upstream>` section: a line of its own that starts a
 * heading (`## other`, `# mcp-warden`) gets a backslash before its `#`, or one upstream could close its
 * section and write text the model reads as another upstream's instructions, or warden's.
 */
function withoutHeadings(text: string): string {
  return text.replace(/^([ \t]*)#/gm, '$1\\#');
}
