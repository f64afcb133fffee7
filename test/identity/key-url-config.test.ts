import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseConfigDocument } from '../../src/config/load-config.js';
import { WardenConfigSchema } from '../../src/config/config-schema.js';

/** A mistyped key URL must fail start-up naming the file and key, never with a bare TypeError. */
describe('identity.issuers[].jwksUri that is not a URL', () => {
  for (const jwksUri of ['not a url', 'http://', '']) {
    it(`is a ConfigError naming the key path (${JSON.stringify(jwksUri)})`, () => {
      const doc = {
        upstreams: { a: { command: 'x' } },
        identity: { resource: 'https://warden.example/mcp', issuers: [{ issuer: 'https://idp.example', audience: 'w', jwksUri }] },
      };
      let caught: unknown;
      try {
        parseConfigDocument(doc, 'warden.yaml', WardenConfigSchema);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).keyPath).toBe('identity.issuers[0].jwksUri');
    });
  }
});
