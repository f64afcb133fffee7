import { describe, expect, it } from 'vitest';
import { addressGroup } from '../../src/proxy/connections-per-address.js';

describe('addressGroup: whose connections count together', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::1%eth0', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1:2', 'fe80:0:0:0::/64'],
    [undefined, '?'],
  ])('%s counts as %s', (address, group) => {
    expect(addressGroup(address)).toBe(group);
  });

  it('blocks one host from taking many shares by rotating through its IPv6 /64', () => {
    const groups = new Set(Array.from({ length: 50 }, (_, i) => addressGroup(`2001:db8:aa:bb::${(i + 1).toString(16)}`)));
    expect(groups.size).toBe(1);
  });
});
