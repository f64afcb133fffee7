import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { isLoopbackHost } from '../../src/config/cross-checks.js';
import { loadWardenConfig } from '../../src/config/load-config.js';
import { writeTempConfig } from '../helpers/warden-process.js';

function load(config: Record<string, unknown>): unknown {
  try {
    return loadWardenConfig(writeTempConfig(config), {});
  } catch (err) {
    return err;
  }
}

const upstreams = { acme: { command: 'node', args: ['x.js'] } };
const identity = { resource: 'https://w/mcp', issuers: [{ issuer: 'https://i', audience: 'w', jwksFile: 'jwks.json' }] };

describe('cross-section config checks', () => {
  it('refuses anonymous mode on a non-loopback HTTP host (anyone on the network could call every tool)', () => {
    const err = load({ dangerouslyAllowAnonymous: true, upstreams, listen: { stdio: false, http: { host: '0.0.0.0', port: 0 } } });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).keyPath).toBe('listen.http.host');
    expect((err as ConfigError).message).toContain('listen.http.dangerouslyAllowNonLoopback');
    expect((err as ConfigError).message).toContain('dangerouslyAllowAnonymous');
  });

  it('accepts it only when acknowledged with listen.http.dangerouslyAllowNonLoopback', () => {
    const ok = load({ dangerouslyAllowAnonymous: true, upstreams, listen: { stdio: false, http: { host: '0.0.0.0', port: 0, dangerouslyAllowNonLoopback: true } } });
    expect(ok).not.toBeInstanceOf(Error);
  });

  it('accepts anonymous on loopback hosts and a non-loopback host with identity', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1']) {
      expect(load({ dangerouslyAllowAnonymous: true, upstreams, listen: { stdio: false, http: { host, port: 0 } } })).not.toBeInstanceOf(Error);
    }
    expect(load({ identity, upstreams, listen: { stdio: false, http: { host: '0.0.0.0', port: 0 } } })).not.toBeInstanceOf(Error);
  });

  it('rejects identity on stdio without identity.token (every stdio session would fail token_unavailable)', () => {
    const err = load({ identity, upstreams });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).keyPath).toBe('identity.token');
    expect((err as ConfigError).message).toContain('listen.stdio');
  });

  it('accepts identity without a token when stdio is off, or with a token on stdio', () => {
    expect(load({ identity, upstreams, listen: { stdio: false, http: { port: 0 } } })).not.toBeInstanceOf(Error);
    expect(load({ identity: { ...identity, token: { env: 'T' } }, upstreams })).not.toBeInstanceOf(Error);
  });

  it('refuses a request-bytes budget below maxBodyBytes (a single body of legal size could never be admitted), naming the file and the key', () => {
    const configFile = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams, listen: { stdio: false, http: { port: 0, maxBodyBytes: 2_000_000, maxRequestBytesInFlightPerPrincipal: 1_999_999 } } });
    const err = (() => {
      try {
        return loadWardenConfig(configFile, {});
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).keyPath).toBe('listen.http.maxRequestBytesInFlightPerPrincipal');
    expect((err as ConfigError).message).toContain(`${configFile}: listen.http.maxRequestBytesInFlightPerPrincipal:`);
    expect((err as ConfigError).message).toContain('listen.http.maxBodyBytes');
    // Raising maxBodyBytes past the default budget (32 MiB) alone is refused the same way.
    expect((load({ dangerouslyAllowAnonymous: true, upstreams, listen: { stdio: false, http: { port: 0, maxBodyBytes: 64 * 1024 * 1024 } } }) as ConfigError).keyPath).toBe('listen.http.maxRequestBytesInFlightPerPrincipal');
  });

  it('refuses warden\'s whole request-bytes budget below maxBodyBytes, naming the key', () => {
    const err = load({ dangerouslyAllowAnonymous: true, upstreams, listen: { stdio: false, http: { port: 0, maxBodyBytes: 2_000_000, maxRequestBytesInFlight: 1_999_999 } } }) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.keyPath).toBe('listen.http.maxRequestBytesInFlight');
    expect(err.message).toContain('listen.http.maxBodyBytes');
  });

  it('accepts request-bytes budgets equal to maxBodyBytes, and the defaults', () => {
    expect(load({ dangerouslyAllowAnonymous: true, upstreams, listen: { stdio: false, http: { port: 0, maxBodyBytes: 1_000, maxRequestBytesInFlightPerPrincipal: 1_000, maxRequestBytesInFlight: 1_000 } } })).not.toBeInstanceOf(Error);
    const config = load({ dangerouslyAllowAnonymous: true, upstreams, listen: { stdio: false, http: { port: 0 } } }) as { listen: { http: { maxRequestBytesInFlightPerPrincipal: number; maxRequestBytesInFlight: number } } };
    expect(config.listen.http.maxRequestBytesInFlightPerPrincipal).toBe(32 * 1024 * 1024);
    expect(config.listen.http.maxRequestBytesInFlight).toBe(256 * 1024 * 1024);
  });

  it('knows loopback hosts', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'LOCALHOST'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '127.0.0.1.nip.io'].some(isLoopbackHost)).toBe(false);
  });
});
