/**
 * RFC 9728 §3.1: the metadata URL inserts `/.well-known/oauth-protected-resource` between the
 * host and the path of the resource (`https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`).
 * For a resource without a path this is `<resource>/.well-known/oauth-protected-resource`.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}${protectedResourceMetadataPath(resource)}`;
}

/** The path the proxy serves the metadata document at (see protectedResourceMetadataUrl). */
export function protectedResourceMetadataPath(resource: string): string {
  const path = new URL(resource).pathname.replace(/\/+$/, '');
  return `/.well-known/oauth-protected-resource${path}`;
}

/** Makes a value safe inside an RFC 7235 quoted-string: printable ASCII only, no `"` or `\`. */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]|["\\]/g, '')}"`;
}

/**
 * The `WWW-Authenticate` value for a 401 or 403. With no token at all, RFC 6750 §3.1 says not to
 * include an error code, so `error` is omitted for `token_missing` (the client learns where the
 * metadata is and starts authorization); a bad token gets `invalid_token`, a missing scope
 * `insufficient_scope` with the scopes needed.
 */
export function wwwAuthenticate(
  metadataUrl: string,
  problem: { kind: 'missing' } | { kind: 'invalid_token'; description: string } | { kind: 'insufficient_scope'; description: string; scope: string },
): string {
  const parts = [`Bearer resource_metadata=${quoted(metadataUrl)}`];
  if (problem.kind !== 'missing') {
    parts.push(`error=${quoted(problem.kind)}`, `error_description=${quoted(problem.description)}`);
  }
  if (problem.kind === 'insufficient_scope') parts.push(`scope=${quoted(problem.scope)}`);
  return parts.join(', ');
}
