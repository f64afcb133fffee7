import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityEnv, type IdentityEnv } from '../../helpers/identity-env.js';
import { runWardenCli, writeConfig } from '../../helpers/identity-warden.js';
import { transmitter } from '../../helpers/events-sets.js';

/**
 * Two stdio agents started from one config: the second warden finds the SET receiver's port taken.
 * It must not start without a receiver silently, and the operator must learn which key to change
 * and why only one receiver is needed.
 */
let env: IdentityEnv;
let holder: Server;
let port: number;

beforeAll(async () => {
  env = await identityEnv('warden-e2e-evport-');
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  port = (holder.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => holder?.close(() => resolve()));
});

describe('events receiver port already taken', () => {
  it('warden run refuses to start (exit 4), naming the config file, events.listen and what to do', async () => {
    const tx = await transmitter(env.dir);
    const configFile = writeConfig(env.dir, env.config({ listen: { stdio: false, http: { port: 0 } }, events: tx.section({ listen: { host: '127.0.0.1', port, path: '/events' } }) }));
    const r = await runWardenCli(['run', '--config', configFile]);
    expect(r.status).toBe(4);
    expect(r.stderr).toContain(`${configFile}: events.listen: 127.0.0.1:${port} is already in use (EADDRINUSE)`);
    expect(r.stderr).toContain('events.enabled: false');
  });
});
