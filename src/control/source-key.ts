import { isIPv6 } from 'node:net';

/**
 * The key a caller's failed authentications are counted under. An IPv4 address is its own key;
 * an IPv6 address counts for its /64: one host is routinely given a whole /64, so keyed per
 * address a single guesser would have 2^64 fresh budgets (and could push every locked address
 * out of the bounded table). IPv4-mapped IPv6 (`::ffff:10.0.0.5`) is the IPv4 address.
 */
export function failureSourceKey(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return 'unix';
  const address = remoteAddress.split('%')[0] ?? remoteAddress;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

/** The eight hextets of an IPv6 address (lower case, no leading zeros), `::` and a trailing IPv4 part expanded. */
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase();
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((h) => Number.parseInt(h, 16).toString(16));
}
