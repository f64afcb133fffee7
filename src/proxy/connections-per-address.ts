import type { Server } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from '../logging/logger.js';

/**
 * Whose connections count together: one IPv4 address, or one IPv6 /64 (a single host is usually
 * given a whole /64, so counting by full address would give it 2^64 shares). An IPv4-mapped IPv6
 * address (`::ffff:203.0.113.7`, how a dual-stack listener sees IPv4 clients) counts as its IPv4.
 * Loopback (127.0.0.0/8, ::1) is no group (undefined): every client of a warden on loopback, the
 * default, comes from it, so a share for it would only be a lower maxConnections for everyone.
 */
export function addressGroup(address: string | undefined): string | undefined {
  if (address === undefined) return '?';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped ? mapped[1]! : address;
  if (isIPv4(v4)) return v4.startsWith('127.') ? undefined : v4;
  if (!isIPv6(address)) return address;
  const groups = expandIPv6(address);
  if (groups.every((g, i) => g === (i === 7 ? '1' : '0'))) return undefined;
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, lower-case, without zone (`%eth0`). */
function expandIPv6(address: string): string[] {
  const bare = address.split('%')[0]!.toLowerCase();
  const [head, tail] = bare.includes('::') ? bare.split('::') as [string, string] : [bare, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (`::1.2.3.4`) takes two groups; only the first four matter here.
  const rightGroups = right.flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const missing = 8 - left.length - rightGroups.length;
  return [...left, ...Array.from({ length: Math.max(0, missing) }, () => '0'), ...rightGroups].map((g) => g.replace(/^0+(?=.)/, ''));
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
