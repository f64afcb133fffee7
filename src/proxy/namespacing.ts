import { createHash } from 'node:crypto';

/** Separator between upstream name and original name when several upstreams are configured. */
export const NAMESPACE_SEPARATOR = '__';
/** Many MCP clients cap tool names at 64 characters. */
export const MAX_EXPOSED_NAME = 64;
const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
/**
 * Most exposed names remembered per upstream per session. Names come from the upstream's own list
 * answers and nothing else removes them, so an upstream listing fresh names at every listing (and
 * announcing list_changed so the agent lists again) would grow the memory of the process every
 * session shares. Beyond the bound the upstream's oldest-exposed name is forgotten: an ordinary
 * `<upstream>__<name>` still routes by its prefix, a shortened one is then an unknown tool (-32602).
 */
export const MAX_EXPOSED_NAMES_PER_UPSTREAM = 10_000;

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
  /** Per upstream, the exposed names it holds in exposedToTarget, oldest first. */
  private readonly byUpstream = new Map<string, Set<string>>();

  constructor(private readonly upstreams: readonly string[]) {}

  /** Exposed names remembered (for tests and diagnostics). */
  get size(): number {
    return this.exposedToTarget.size;
  }

  get multi(): boolean {
    return this.upstreams.length > 1;
  }

  /** The agent-facing name, or an error string when the name cannot be exposed safely. */
  expose(upstream: string, name: string): { ok: true; exposed: string } | { ok: false; error: string } {
    // One upstream: names are untouched and resolve() routes any name to it, so nothing is kept.
    if (!this.multi) return { ok: true, exposed: name };
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
    this.remember(exposed, { upstream, name });
    return { ok: true, exposed };
  }

  /** Records `exposed` as the newest name of its upstream, forgetting the oldest beyond the bound. */
  private remember(exposed: string, target: Target): void {
    this.exposedToTarget.set(exposed, target);
    let names = this.byUpstream.get(target.upstream);
    if (!names) this.byUpstream.set(target.upstream, (names = new Set()));
    names.delete(exposed);
    names.add(exposed);
    if (names.size <= MAX_EXPOSED_NAMES_PER_UPSTREAM) return;
    const oldest = names.values().next().value as string;
    names.delete(oldest);
    this.exposedToTarget.delete(oldest);
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
