import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { HttpListen } from '../../src/config/config-schema.js';
import { checkHostAndOrigin, defaultAllowedHosts } from '../../src/proxy/http-guards.js';

const listenOn = (host: string) => ({ host }) as HttpListen;
const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

/** The Host values warden accepts by default must be the ones clients send for its own address. */
describe('default allowed Host values', () => {
  it('spell an IPv6 listen address as clients send it in Host, in brackets (an agent on [fd00::5]:8787 was refused)', () => {
    const hosts = defaultAllowedHosts(listenOn('fd00::5'), 8787);
    expect(checkHostAndOrigin(request({ host: '[fd00::5]:8787' }), hosts, [])).toBeUndefined();
    expect(hosts).not.toContain('fd00::5:8787');
  });

  it('still accept an IPv4 or named listen address and the loopback names', () => {
    const hosts = defaultAllowedHosts(listenOn('10.0.0.7'), 8787);
    for (const host of ['10.0.0.7:8787', 'localhost:8787', '127.0.0.1:8787', '[::1]:8787']) {
      expect(checkHostAndOrigin(request({ host }), hosts, [])).toBeUndefined();
    }
  });

  it('refuse a rebinding name, another port, and a Host without its port (DNS rebinding)', () => {
    const hosts = defaultAllowedHosts(listenOn('127.0.0.1'), 8787);
    for (const host of ['evil.example:8787', '127.0.0.1:8788', '127.0.0.1', 'localhost.:8787', '[::1]']) {
      expect(checkHostAndOrigin(request({ host }), hosts, [])).toMatch(/^Host not allowed/);
    }
  });
});
