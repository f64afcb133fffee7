import type { UpstreamConnection } from './upstream-connection.js';

type Caps = Record<string, unknown>;

/**
 * Builds the agent's `initialize` result: warden's own serverInfo, the upstream's capabilities
 * (one upstream, untouched) or their union (several: sub-flags such as `listChanged` OR-ed).
 */
export function mergeInitializeResults(
  upstreams: readonly UpstreamConnection[],
  serverInfo: { name: string; version: string },
): Record<string, unknown> {
  const results = upstreams.map((u) => u.initializeResult ?? {});
  if (results.length === 1) {
    const only = results[0]!;
    return { ...only, serverInfo };
  }
  const capabilities: Caps = {};
  for (const r of results) mergeCaps(capabilities, (r.capabilities as Caps | undefined) ?? {});
  const versions = results.map((r) => r.protocolVersion).filter((v): v is string => typeof v === 'string').sort();
  const instructions = upstreams
    .map((u, i) => (typeof results[i]!.instructions === 'string' ? `## ${u.name}\n${String(results[i]!.instructions)}` : undefined))
    .filter((s): s is string => s !== undefined);
  const merged: Record<string, unknown> = { protocolVersion: versions[0], capabilities, serverInfo };
  if (instructions.length > 0) merged.instructions = instructions.join('\n\n');
  return merged;
}

function mergeCaps(target: Caps, source: Caps): void {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (isObject(value) && isObject(current)) {
      for (const [sub, flag] of Object.entries(value)) {
        current[sub] = typeof flag === 'boolean' ? Boolean(current[sub]) || flag : (current[sub] ?? flag);
      }
    } else if (isObject(value)) {
      target[key] = { ...value };
    } else if (current === undefined) {
      target[key] = value;
    }
  }
}

function isObject(v: unknown): v is Caps {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
