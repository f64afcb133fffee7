import { ConfigError } from '../core/errors.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${VAR}` references in one config value. A missing variable is a start-up error
 * naming the file and key (a silently empty credential would fail later and far less clearly).
 */
export function interpolateEnv(
  value: string,
  env: Readonly<Record<string, string | undefined>>,
  where: { file: string; keyPath: string },
): string {
  return value.replace(REFERENCE, (_match, name: string) => {
    const resolved = env[name];
    if (resolved === undefined) {
      throw new ConfigError(`environment variable ${name} is not set`, where);
    }
    return resolved;
  });
}

/** Interpolates every value of a string map (headers, env), naming `prefix.key` on failure. */
export function interpolateRecord(
  record: Readonly<Record<string, string>> | undefined,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
  prefix: string,
): Record<string, string> | undefined {
  if (record === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) {
    out[key] = interpolateEnv(value, env, { file, keyPath: `${prefix}.${key}` });
  }
  return out;
}
