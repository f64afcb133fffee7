import type { WardenConfig } from '../config/config-schema.js';

const HIDDEN = '[redacted]';

/** JWK members that hold private or symmetric key material (RFC 7518 section 6). */
const PRIVATE_JWK_MEMBERS: ReadonlySet<string> = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

function hideValues(record: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (!record) return undefined;
  return Object.fromEntries(Object.keys(record).map((k) => [k, HIDDEN]));
}

/**
 * An issuer's inline keys without private members. A private JWK pasted where the public one
 * belongs is refused by the identity loader, but only after this record was written: the audit
 * log, which cannot be edited without breaking its hash chain, would keep the private key.
 */
function identityShown(identity: WardenConfig['identity']): WardenConfig['identity'] {
  if (!identity) return identity;
  return {
    ...identity,
    issuers: identity.issuers.map((iss) => {
      if (!iss.publicKeys) return iss;
      const publicKeys = iss.publicKeys.map((key) => {
        if (key.jwk === undefined) return key;
        const jwk = Object.fromEntries(Object.entries(key.jwk).map(([m, v]) => [m, PRIVATE_JWK_MEMBERS.has(m) ? HIDDEN : v]));
        return { ...key, jwk };
      });
      return { ...iss, publicKeys };
    }),
  };
}

/**
 * The configuration as recorded in the audit trail at start-up: structure and settings, never
 * secrets. Upstream environment and header values can hold credentials, so only their names stay;
 * inline issuer keys keep their public members only. (PEM private keys and credentials in URLs
 * are scrubbed by the audit sink's built-in redaction.)
 */
export function publicConfig(config: WardenConfig): Record<string, unknown> {
  const upstreams = Object.fromEntries(
    Object.entries(config.upstreams).map(([name, u]) => [
      name,
      'url' in u ? { ...u, headers: hideValues(u.headers) } : { ...u, env: hideValues(u.env) },
    ]),
  );
  const identity = identityShown(config.identity);
  return { ...config, upstreams, ...(identity ? { identity } : {}) };
}
