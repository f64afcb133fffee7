import type { Server } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from '../logging/logger.js';

/**
 * Whose connections count together: one IPv4 address, or one IPv6 /64 (a single host is usually
 * given a whole /64, so counting by full address would give it 2^64 shares). IPv6 addresses that
 * stand for an IPv4 client count as that client, never by /64, where every such client would
 * share one place:
 * - IPv4-mapped (`::ffff:203.0.113.7`, how a dual-stack listener sees IPv4 clients): as its IPv4.
 * - NAT64 with the well-known prefix (`64:ff9b::203.0.113.7`, 64:ff9b::/96, RFC 6052): as its
 *   IPv4, the same place as that client reaching warden over IPv4 directly.
 * - NAT64 with a local-use prefix (64:ff9b:1::/48, RFC 8215): as the whole address. Where the
 *   IPv4 address sits in it depends on the prefix length the network chose (/48 to /96), which
 *   warden cannot know; under one prefix each IPv4 client has exactly one such address.
 * Loopback (127.0.0.0/8, ::1, and their IPv4-mapped form) is no group (undefined): every client
 * of a warden on loopback, the default, comes from it, so a share for it would only be a lower
 * maxConnections for everyone. An IPv4 address embedded by NAT64 is counted even if it says
 * 127.x: a translator never forwards loopback, so it did not come from this machine.
 */
export function addressGroup(address: string | undefined): string | undefined {
  if (address === undefined) return '?';
  if (isIPv4(address)) return address.startsWith('127.') ? undefined : address;
  if (!isIPv6(address)) return address;
  const g = ipv6Groups(address);
  const zeroUpTo = (n: number): boolean => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(5) && g[5] === 0xffff) return addressGroup(embeddedIPv4(g));
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embeddedIPv4(g);
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return g.map((x) => x.toString(16)).join(':');
  if (zeroUpTo(7) && g[7] === 1) return undefined;
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}

/** The IPv4 address in the last 32 bits of an IPv6 address. */
function embeddedIPv4(g: readonly number[]): string {
  return [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff].join('.');
}

/** The eight 16-bit groups of a valid IPv6 address (zone `%eth0` dropped; an embedded IPv4 tail is two groups). */
function ipv6Groups(address: string): number[] {
  const bare = address.split('%')[0]!.toLowerCase();
  const [head, tail] = bare.includes('::') ? (bare.split('::') as [string, string]) : [bare, undefined];
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === ''
      ? []
      : part.split(':').flatMap((h) => {
          if (!h.includes('.')) return [parseInt(h, 16)];
          const [a, b, c, d] = h.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const left = parse(head);
  const right = parse(tail);
  return [...left, ...Array.from({ length: 8 - left.length - right.length }, () => 0), ...right];
}

/**
 * Bounds the connections one address (see addressGroup; loopback is not bounded) holds at once, so
 * one host cannot take all of `listen.http.maxConnections` and lock every other agent out before
 * anyone authenticates.
 * A connection beyond it is closed at once, unanswered; refusals are logged once per address per
 * episode. The map holds an entry per address with a connection open, so it is bounded by
 * maxConnections.
 */
export function limitConnectionsPerAddress(server: Server, max: number, logger: Logger): void {
  const open = new Map<string, number>();
  const refusing = new Set<string>();
  server.on('connection', (socket) => {
    const group = addressGroup(socket.remoteAddress);
    if (group === undefined) return;
    const held = open.get(group) ?? 0;
    if (held >= max) {
      if (!refusing.has(group)) {
        // Bounded too: an address is only added while it holds `max` connections.
        refusing.add(group);
        logger.warn({ remoteAddress: group, limit: max }, 'HTTP connections per address reached (listen.http.maxConnectionsPerAddress); closing new ones from it');
      }
      socket.destroy();
      return;
    }
    open.set(group, held + 1);
    socket.once('close', () => {
      const left = (open.get(group) ?? 1) - 1;
      if (left > 0) open.set(group, left);
      else open.delete(group);
      if (refusing.delete(group)) logger.warn({ remoteAddress: group, limit: max }, 'HTTP connections from this address accepted again');
    });
  });
}
