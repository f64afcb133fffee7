import { describe, expect, it } from 'vitest';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import { registrySettings } from '../../src/runtime/subject-wiring.js';

const issuer = (extra: Record<string, unknown> = {}) => ({ issuer: 'https://idp.test', audience: 'https://w.test/mcp', jwksFile: 'jwks.json', ...extra });
const config = (identityExtra: Record<string, unknown>, events?: Record<string, unknown>) =>
  WardenConfigSchema.parse({
    upstreams: { a: { command: 'x' } },
    identity: { resource: 'https://w.test/mcp', issuers: [issuer(identityExtra)], token: { env: 'T' } },
    ...(events ? { events } : {}),
  });

describe('how long revocations are kept', () => {
  it('a revoked token never outlives its revocation: entries last as long as any accepted token (lifetime + clock tolerance)', () => {
    // Default lifetime 24 h = default retention; the 30 s clock tolerance would have been a gap.
    expect(registrySettings(config({})).retentionSeconds).toBe(86_400 + 30);
    expect(registrySettings(config({ maxTokenLifetime: 7 * 86_400 })).retentionSeconds).toBe(7 * 86_400 + 30);
  });

  it('keeps a longer configured retention', () => {
    const events = { transmitter: { issuer: 'https://idp.test', audience: 'a', keys: { jwksFile: 'x' } }, retentionSeconds: 30 * 86_400 };
    expect(registrySettings(config({}, events)).retentionSeconds).toBe(30 * 86_400);
  });
});
