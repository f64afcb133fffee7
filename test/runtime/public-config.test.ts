import { describe, expect, it } from 'vitest';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import { publicConfig } from '../../src/runtime/public-config.js';

const D = 't6vzCWFyr6XkH9MtnP2j8Xv8unAnbfRhoq7sjG1IDTM';
const K = 'c3ltbWV0cmljLXNlY3JldC1pbmxpbmUtaW4tY29uZmln';

function configWithInlineKeys(): ReturnType<typeof WardenConfigSchema.parse> {
  return WardenConfigSchema.parse({
    upstreams: { acme: { command: 'node' } },
    listen: { stdio: false, http: { port: 0 } },
    identity: {
      resource: 'https://warden.test/mcp',
      issuers: [
        {
          issuer: 'https://idp.test',
          audience: 'https://warden.test/mcp',
          publicKeys: [
            { jwk: { kty: 'EC', crv: 'P-256', x: 'xx', y: 'yy', d: D, kid: 'k1' } },
            { jwk: { kty: 'oct', k: K }, alg: 'ES256' },
          ],
        },
      ],
    },
  });
}

describe('the config recorded at start-up (config.loaded)', () => {
  it('does not carry private key material pasted into identity publicKeys[].jwk (d, k, ...)', () => {
    const shown = JSON.stringify(publicConfig(configWithInlineKeys()));
    expect(shown).not.toContain(D);
    expect(shown).not.toContain(K);
    // The public half stays: an auditor sees which keys were trusted.
    expect(shown).toContain('"kid":"k1"');
    expect(shown).toContain('"x":"xx"');
  });
});
