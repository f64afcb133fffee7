import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { addressGroup, limitConnectionsPerAddress } from '../../src/proxy/connections-per-address.js';

describe('addressGroup: whose connections count together', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::1%eth0', '2001:db8:1:2::/64'],
    ['::1', undefined],
    ['127.0.0.1', undefined],
    ['127.8.9.10', undefined],
    ['::ffff:127.0.0.1', undefined],
    ['128.0.0.1', '128.0.0.1'],
    ['::2', '0:0:0:0::/64'],
    ['fe80::1:2', 'fe80:0:0:0::/64'],
    [undefined, '?'],
    // IPv4-mapped in every spelling counts as the IPv4 address, loopback included.
    ['::ffff:c000:201', '192.0.2.1'],
    ['0:0:0:0:0:ffff:192.0.2.1', '192.0.2.1'],
    ['0:0:0:0:0:FFFF:7f00:1', undefined],
    // NAT64, well-known prefix: the embedded IPv4 address, as if it came over IPv4.
    ['64:ff9b::192.0.2.1', '192.0.2.1'],
    ['64:ff9b::c000:201', '192.0.2.1'],
    ['64:FF9B:0:0:0:0:C633:6401', '198.51.100.1'],
    ['64:ff9b::127.0.0.1', '127.0.0.1'],
    // NAT64, local-use prefix: the whole address (where the IPv4 sits depends on the prefix length).
    ['64:ff9b:1:aa::c000:201', '64:ff9b:1:aa:0:0:c000:201'],
    ['64:ff9b:1::c633:6401', '64:ff9b:1:0:0:0:c633:6401'],
    // Only those prefixes: a neighbour of 64:ff9b::/96 is an ordinary /64.
    ['64:ff9b:0:0:1::1', '64:ff9b:0:0::/64'],
  ])('%s counts as %s', (address, group) => {
    expect(addressGroup(address)).toBe(group);
  });

  it('blocks one host from taking many shares by rotating through its IPv6 /64', () => {
    const groups = new Set(Array.from({ length: 50 }, (_, i) => addressGroup(`2001:db8:aa:bb::${(i + 1).toString(16)}`)));
    expect(groups.size).toBe(1);
  });
});

/**
 * The limiter on the server's `connection` events. Clients from addresses other than loopback
 * cannot be made on one machine's loopback interface, so sockets here are stand-ins that close
 * and get destroyed as net.Socket does; the loopback case runs with real connections in
 * test/e2e/adv-http/connection-limit.test.ts.
 */
describe('limitConnectionsPerAddress', () => {
  class FakeSocket extends EventEmitter {
    destroyed = false;
    constructor(readonly remoteAddress: string) {
      super();
    }
    destroy(): void {
      this.destroyed = true;
      this.emit('close');
    }
  }
  function limited(max: number) {
    const server = new EventEmitter();
    limitConnectionsPerAddress(server as unknown as Server, max, pino({ level: 'silent' }));
    return (address: string): FakeSocket => {
      const s = new FakeSocket(address);
      server.emit('connection', s);
      return s;
    };
  }

  it('blocks one host from holding more than its share, while others still get in (single-host connection flood)', () => {
    const connect = limited(2);
    const held = [connect('203.0.113.7'), connect('203.0.113.7')];
    const third = connect('203.0.113.7');
    expect(third.destroyed).toBe(true);
    expect(held.map((h) => h.destroyed)).toEqual([false, false]);
    expect(connect('198.51.100.1').destroyed).toBe(false);
    // A closed connection frees its place.
    held[0]!.emit('close');
    expect(connect('203.0.113.7').destroyed).toBe(false);
  });

  it('blocks a host from taking many shares by rotating the addresses of its IPv6 /64', () => {
    const connect = limited(2);
    const sockets = Array.from({ length: 5 }, (_, i) => connect(`2001:db8:aa:bb::${i + 1}`));
    expect(sockets.map((s) => s.destroyed)).toEqual([false, false, true, true, true]);
  });

  it('blocks one IPv4 client behind NAT64 from taking every other NAT64 client\'s share (well-known prefix, one /64)', () => {
    const connect = limited(2);
    const held = [connect('64:ff9b::192.0.2.1'), connect('64:ff9b::192.0.2.1')];
    expect(connect('64:ff9b::192.0.2.1').destroyed).toBe(true);
    expect(held.some((s) => s.destroyed)).toBe(false);
    // Other IPv4 clients through the same translator have their own places.
    expect([connect('64:ff9b::198.51.100.1'), connect('64:ff9b::203.0.113.9')].some((s) => s.destroyed)).toBe(false);
    // The same IPv4 client reaching warden directly shares its place: one host, one share.
    expect(connect('192.0.2.1').destroyed).toBe(true);
  });

  it('blocks one IPv4 client behind a local-use NAT64 prefix from taking the other clients\' share', () => {
    const connect = limited(1);
    expect(connect('64:ff9b:1:aa::c000:201').destroyed).toBe(false);
    expect(connect('64:ff9b:1:aa::c000:201').destroyed).toBe(true);
    expect(connect('64:ff9b:1:aa::c633:6401').destroyed).toBe(false);
  });

  it('blocks an IPv4 client from taking a second share by an IPv4-mapped spelling', () => {
    const connect = limited(1);
    expect(connect('192.0.2.1').destroyed).toBe(false);
    expect(connect('::ffff:c000:201').destroyed).toBe(true);
    // ... and mapped clients do not share one place among them.
    expect(connect('0:0:0:0:0:ffff:198.51.100.1').destroyed).toBe(false);
  });

  it('leaves loopback clients alone: a warden on loopback serves them all from one address', () => {
    const connect = limited(1);
    expect([connect('127.0.0.1'), connect('127.0.0.1'), connect('::1'), connect('::ffff:127.0.0.1')].some((s) => s.destroyed)).toBe(false);
  });
});
