/**
 * Most resource URIs (and, separately, template prefixes) warden remembers per upstream per
 * session for routing. The maps are filled from the upstream's own list answers and nothing else
 * removes entries, so without a cap an upstream answering endless pages of fresh URIs grows one
 * process's memory (shared by every agent in HTTP mode) until it dies.
 */
export const MAX_OWNED_URIS_PER_UPSTREAM = 10_000;

/**
 * Key (URI or template prefix) → name of the upstream that listed it, bounded per upstream.
 * Beyond the cap an upstream's oldest-listed key is evicted, not the new one refused: an agent
 * reads what it listed last, so the newest listing must stay routable, and since every upstream
 * has its own budget a hostile upstream can only ever evict its own keys, never another's.
 * An evicted key is routed as if never listed (template prefix, else the only upstream serving
 * resources, else -32602), which is the answer warden already gives for unknown URIs.
 */
export class OwnerMap implements Iterable<[string, string]> {
  private readonly owners = new Map<string, string>();
  /** Per upstream, its keys in listing order (a Set iterates in insertion order). */
  private readonly byOwner = new Map<string, Set<string>>();

  constructor(private readonly maxPerOwner: number = MAX_OWNED_URIS_PER_UPSTREAM) {}

  get(key: string): string | undefined {
    return this.owners.get(key);
  }

  get size(): number {
    return this.owners.size;
  }

  /** Records that `owner` listed `key`; listing it again makes it the newest. */
  set(key: string, owner: string): void {
    const previous = this.owners.get(key);
    if (previous !== undefined) this.byOwner.get(previous)?.delete(key);
    let keys = this.byOwner.get(owner);
    if (!keys) {
      keys = new Set();
      this.byOwner.set(owner, keys);
    }
    keys.add(key);
    this.owners.set(key, owner);
    if (keys.size <= this.maxPerOwner) return;
    const oldest = keys.values().next().value as string;
    keys.delete(oldest);
    this.owners.delete(oldest);
  }

  [Symbol.iterator](): Iterator<[string, string]> {
    return this.owners[Symbol.iterator]();
  }
}
