import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseConfigDocument } from '../../src/config/load-config.js';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import { EventsConfigSchema } from '../../src/events/events-config.js';

/**
 * Whoever can replace the transmitter's keys can sign SETs: revoke anyone, and (token-claims-change)
 * give any principal claims and scopes the policy trusts. Keys fetched over plain http can be
 * replaced by anyone on the path, so the transmitter's jwksUrl follows the same rule as an
 * identity issuer's jwksUri: https, or http to the local machine only.
 */
const events = (jwksUrl: string) => ({
  transmitter: { issuer: 'https://idp.example', audience: 'https://warden.example/events', keys: { jwksUrl } },
});

describe('events.transmitter.keys.jwksUrl', () => {
  it('rejects a plain-http transmitter JWKS on a remote host (keys swappable on the path)', () => {
    expect(EventsConfigSchema.safeParse(events('http://idp.example/.well-known/ssf/jwks.json')).success).toBe(false);
  });

  it('rejects a non-http(s) transmitter JWKS URL', () => {
    expect(EventsConfigSchema.safeParse(events('ftp://idp.example/jwks.json')).success).toBe(false);
  });

  it('names the key path when warden start-up refuses it', () => {
    const doc = { upstreams: { a: { command: 'x' } }, dangerouslyAllowAnonymous: true, events: events('http://10.0.0.9/jwks.json') };
    let caught: unknown;
    try {
      parseConfigDocument(doc, 'warden.yaml', WardenConfigSchema);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(String((caught as Error).message)).toContain('events.transmitter.keys.jwksUrl');
  });

  it('accepts https, and http to loopback (a local test IdP)', () => {
    for (const url of ['https://idp.example/jwks.json', 'http://127.0.0.1:9999/jwks.json', 'http://localhost/jwks.json', 'http://[::1]:80/j']) {
      expect(EventsConfigSchema.safeParse(events(url)).success, url).toBe(true);
    }
  });
});
