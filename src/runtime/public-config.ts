import type { WardenConfig } from '../config/config-schema.js';

const HIDDEN = '[redacted]';

function hideValues(record: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (!record) return undefined;
  return Object.fromEntries(Object.keys(record).map((k) => [k, HIDDEN]));
}

/**
 * The configuration as recorded in the audit trail at start-up: structure and settings, never
 * secrets. Upstream environment and header values can hold credentials, so only their names stay.
 */
export function publicConfig(config: WardenConfig): Record<string, unknown> {
  const upstreams = Object.fromEntries(
    Object.entries(config.upstreams).map(([name, u]) => [
      name,
      'url' in u ? { ...u, headers: hideValues(u.headers) } : { ...u, env: hideValues(u.env) },
    ]),
  );
  return { ...config, upstreams };
}
