import { afterEach, describe, expect, it } from 'vitest';
import { identityEnv } from '../../helpers/identity-env.js';
import { startHttpWarden, type HttpWarden } from '../../helpers/identity-warden.js';

/**
 * An HTTP-only warden whose config still names the stdio agent's token (the README's complete
 * configuration does, for stdio). Nothing presents that token over HTTP, so an unset variable
 * must not keep warden from starting; every HTTP call still needs its own valid token.
 */
let warden: HttpWarden | undefined;
afterEach(async () => {
  await warden?.stop();
  warden = undefined;
});

describe('identity.token without a stdio listener', () => {
  it('an HTTP-only warden starts although the stdio token variable is unset, says it ignores it, and still judges each caller by its own token', async () => {
    const e = await identityEnv('warden-e2e-httponly-token-');
    warden = await startHttpWarden(e.dir, e.config({ identity: e.identity({ token: { env: 'WARDEN_E2E_UNSET_TOKEN' } }) }));
    expect(warden.stderr.join('')).toContain('identity.token is ignored');
    const client = await warden.connect(await e.mint({ user: 'alice', actor: 'agent-1' }));
    try {
      const r = await client.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
      expect(r.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    await expect(warden.connect('not-a-token')).rejects.toThrow();
  });
});
