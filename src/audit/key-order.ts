import { flat } from './json-text.js';

/**
 * The canonical (RFC 8785) member order of one object shape, learned from the data: the objects
 * inside records (reasons, decisions, arguments of one tool) repeat a few key sets, so the sort
 * and the key texts are computed once per key set instead of once per object.
 */
export interface KeyOrder {
  /** Keys as Object.keys returned them: what a later object is matched against. */
  readonly keys: readonly string[];
  /** Keys in canonical order. */
  readonly sorted: readonly string[];
  /** `"key":` per sorted key, unsafe characters escaped. */
  readonly quoted: readonly string[];
  /** `,"key":` per sorted key: one concatenation per member instead of three. */
  readonly joined: readonly string[];
  /** Per sorted key: its value is always redacted (set only when the key alone decides). */
  readonly redacted: readonly boolean[] | undefined;
}

/** Bounds: hostile arguments may bring endless key sets; past these they are sorted per object. */
const MAX_FIRST_KEYS = 1024;
const MAX_ORDERS_PER_FIRST_KEY = 8;
const MAX_CACHED_KEYS = 32;
const MAX_CACHED_KEY_LENGTH = 64;
/**
 * Characters the cached texts may hold in all. The count bounds alone allow hundreds of MB: a key
 * of control characters is escaped six-fold, and an agent's arguments can bring thousands of key
 * sets. Past the budget the cache starts over, as the sink's string cache does.
 */
export const MAX_CACHED_CHARS = 4 * 1024 * 1024;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `{}` (tools without arguments): no keys to order. */
const EMPTY: KeyOrder = { keys: [], sorted: [], quoted: [], joined: [], redacted: undefined };

function cacheable(keys: readonly string[]): boolean {
  if (keys.length > MAX_CACHED_KEYS) return false;
  for (const k of keys) if (k.length > MAX_CACHED_KEY_LENGTH) return false;
  return true;
}

/**
 * A lookup from an object's keys (Object.keys order) to its KeyOrder. `quote` gives a key's
 * `"key":` text; `keyOnly`, when set, decides redaction from the key name alone (no policy
 * paths), so that decision is kept with the order too.
 */
export function keyOrderCache(
  quote: (key: string) => string,
  keyOnly: ((key: string) => boolean) | undefined,
): ((keys: string[]) => KeyOrder) & { readonly cachedChars: () => number } {
  const byFirstKey = new Map<string, KeyOrder[]>();
  let cachedChars = 0;
  const make = (keys: string[]): KeyOrder => {
    const sorted = [...keys].sort();
    const quoted = sorted.map((k) => flat(quote(k)));
    const joined = quoted.map((q) => flat(`,${q}`));
    return { keys, sorted, quoted, joined, redacted: keyOnly ? sorted.map(keyOnly) : undefined };
  };
  const lookup = (keys: string[]): KeyOrder => {
    if (keys.length === 0) return EMPTY;
    if (!cacheable(keys)) return make(keys);
    const first = keys[0] as string;
    let orders = byFirstKey.get(first);
    if (orders !== undefined) {
      for (const order of orders) if (sameKeys(order.keys, keys)) return order;
    }
    const order = make(keys);
    const chars = order.quoted.reduce((n, q) => n + 2 * q.length + 1, 0);
    if (cachedChars + chars > MAX_CACHED_CHARS) {
      byFirstKey.clear();
      cachedChars = 0;
      orders = undefined;
    }
    if (orders === undefined && byFirstKey.size < MAX_FIRST_KEYS) byFirstKey.set(first, (orders = []));
    if (orders !== undefined && orders.length < MAX_ORDERS_PER_FIRST_KEY) {
      orders.push(order);
      cachedChars += chars;
    }
    return order;
  };
  return Object.assign(lookup, { cachedChars: () => cachedChars });
}
