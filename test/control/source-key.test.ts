import { describe, expect, it } from 'vitest';
import { failureSourceKey } from '../../src/control/source-key.js';

describe('failureSourceKey', () => {
  it('an IPv6 guesser cannot get a fresh budget per address of its /64', () => {
    const keys = ['2001:db8:1:2::1', '2001:db8:1:2::ffff', '2001:0db8:0001:0002:dead:beef:0:1', '2001:DB8:1:2:0:0:0:9%eth0'].map(failureSourceKey);
    expect(new Set(keys)).toEqual(new Set(['2001:db8:1:2::/64']));
    expect(failureSourceKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
  });

  it('IPv4, IPv4-mapped IPv6 and a Unix socket', () => {
    expect(failureSourceKey('10.0.0.5')).toBe('10.0.0.5');
    expect(failureSourceKey('::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(failureSourceKey('::1')).toBe('0:0:0:0::/64');
    expect(failureSourceKey('::')).toBe('0:0:0:0::/64');
    expect(failureSourceKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(failureSourceKey(undefined)).toBe('unix');
  });
});
