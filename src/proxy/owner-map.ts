/**
 * Most resource URIs (and, separately, template prefixes) warden remembers per upstream per
 * session for routing. The maps are filled from the upstream's own list answers and nothing else
 * removes entries, so without a cap an upstream answering endless pages of fresh URIs grows one
 * process's memory (shared by every agent in HTTP mode) until it dies.
 */
export const MAX_OWNED_URIS_PER_UPSTREAM = 10_000;

/**
 * What `OwnerMap.get` answers for a key two or more upstreams listed. Resource URIs are not
 * namespaced, so such a key is ambiguous: routing it to whichever listed it last let one upstream
 * take over another's resources (reads, subscriptions) by listing the same URI or template prefix.
 * It names no upstream (upstream names cannot contain NUL), so it routes nowhere: -32602.
 */
export const CONTESTED = '\u0000contested';

/**
 * Key (URI or template prefix) → name of the upstream that listed it, bounded per upstream.
 * Beyond the cap an upstream's oldest-listed key is evicted, not the new one refused: an agent
 * reads what it listed last, so the newest listing must stay routable, and since every upstream
 * has its own budget a hostile upstream can only ever evict its own keys, never another's.
 * An evicted key is routed as if never listed (template prefix, else the only upstream serving
 * resources, else -32602), which is the answer warden already gives for unknown URIs.
 * A key listed by several upstreams is CONTESTED until all but one have evicted it.
 */
export class OwnerMap implements Iterable<[string, string]> {
  private readonly owners = new Map<string, string>();
  /** For CONTESTED keys only: every upstream that listed the key (each counts it in its budget). */
  private readonly claims = new Map<string, Set<string>>();
  /** Per upstream, its keys in listing order (a Set iterates in insertion order). */
  private readonly byOwner = new Map<string, Set<string>>();

  constructor(private readonly maxPerOwner: number = MAX_OWNED_URIS_PER_UPSTREAM) {}

  /** The upstream that listed `key`, CONTESTED when several did, undefined when none. */
  get(key: string): string | undefined {
    return this.owners.get(key);
  }

  get size(): number {
    return this.owners.size;
  }

  /** Records that `owner` listed `key`; listing it again makes it the newest. */
  set(key: string, owner: string): void {
    const previous = this.owners.get(key);
    if (previous === CONTESTED) this.claims.get(key)!.add(owner);
    else if (previous !== undefined && previous !== owner) {
      this.owners.set(key, CONTESTED);
      this.claims.set(key, new Set([previous, owner]));
    } else this.owners.set(key, owner);
    let keys = this.byOwner.get(owner);
    if (!keys) {
      keys = new Set();
      this.byOwner.set(owner, keys);
    }
    keys.delete(key);
    keys.add(key);
    if (keys.size <= this.maxPerOwner) return;
    const oldest = keys.values().next().value as string;
    keys.delete(oldest);
    this.release(oldest, owner);
  }

  [Symbol.iterator](): Iterator<[string, string]> {
    return this.owners[Symbol.iterator]();
  }

  /** `owner` no longer claims `key`: the key is forgotten, or goes to the one claimant left. */
  private release(key: string, owner: string): void {
    const current = this.owners.get(key);
    if (current !== CONTESTED) {
      if (current === owner) this.owners.delete(key);
      return;
    }
    const claimants = this.claims.get(key)!;
    claimants.delete(owner);
    if (claimants.size > 1) return;
    this.claims.delete(key);
    const [last] = claimants;
    if (last === undefined) this.owners.delete(key);
    else this.owners.set(key, last);
  }
}
