import { createHash } from 'node:crypto';

/** Separator between upstream name and original name when several upstreams are configured. */
export const NAMESPACE_SEPARATOR = '__';
/** Many MCP clients cap tool names at 64 characters. */
export const MAX_EXPOSED_NAME = 64;
const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

export interface Target {
  readonly upstream: string;
  readonly name: string;
}

/**
 * Maps names an upstream lists (tools, prompts, resource templates) to the names the agent
 * sees, and back. With one upstream names are untouched (transparency); with several they are
 * `<upstream>__<name>`. An exposed name over 64 characters is shortened deterministically to
 * its first 55 characters + `_` + 8 hex characters of the SHA-256 of the full name.
 */
export class Namespacer {
  private readonly exposedToTarget = new Map<string, Target>();

  constructor(private readonly upstreams: readonly string[]) {}

  get multi(): boolean {
    return this.upstreams.length > 1;
  }

  /** The agent-facing name, or an error string when the name cannot be exposed safely. */
  expose(upstream: string, name: string): { ok: true; exposed: string } | { ok: false; error: string } {
    if (!this.multi) {
      this.exposedToTarget.set(name, { upstream, name });
      return { ok: true, exposed: name };
    }
    let exposed = `${upstream}${NAMESPACE_SEPARATOR}${name}`;
    if (exposed.length > MAX_EXPOSED_NAME) {
      const digest = createHash('sha256').update(exposed).digest('hex').slice(0, 8);
      exposed = `${exposed.slice(0, MAX_EXPOSED_NAME - 9)}_${digest}`;
    }
    if (!NAME_PATTERN.test(exposed)) return { ok: false, error: `name '${exposed}' does not match ${NAME_PATTERN}` };
    const existing = this.exposedToTarget.get(exposed);
    if (existing && (existing.upstream !== upstream || existing.name !== name)) {
      return { ok: false, error: `name '${exposed}' collides with '${existing.name}' from upstream '${existing.upstream}'` };
    }
    this.exposedToTarget.set(exposed, { upstream, name });
    return { ok: true, exposed };
  }

  /** Routes an agent-facing name to its upstream and original name; undefined when unknown. */
  resolve(exposed: string): Target | undefined {
    const known = this.exposedToTarget.get(exposed);
    if (known) return known;
    if (!this.multi) return this.upstreams[0] === undefined ? undefined : { upstream: this.upstreams[0], name: exposed };
    // Not listed yet: route by prefix so a client that calls without listing still works.
    const at = exposed.indexOf(NAMESPACE_SEPARATOR);
    if (at <= 0) return undefined;
    const upstream = exposed.slice(0, at);
    if (!this.upstreams.includes(upstream)) return undefined;
    return { upstream, name: exposed.slice(at + NAMESPACE_SEPARATOR.length) };
  }
}

/** Composite pagination cursor over several upstreams: the remaining cursor of each. */
export function encodeCursor(remaining: Readonly<Record<string, string>>): string | undefined {
  if (Object.keys(remaining).length === 0) return undefined;
  return Buffer.from(JSON.stringify(remaining), 'utf8').toString('base64url');
}

/** Decodes a composite cursor; undefined when it is not one of ours (the agent gets -32602). */
export function decodeCursor(cursor: string, upstreams: readonly string[]): Record<string, string> | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (!upstreams.includes(k) || typeof v !== 'string') return undefined;
      out[k] = v;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  } catch {
    return undefined;
  }
}
