import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runUntilExit } from '../helpers/ops-warden.js';
import { upstreams } from '../helpers/paths.js';
import { tempDir } from '../helpers/warden-process.js';

/**
 * A port warden should listen on is taken (a second warden from the same config, or any other
 * program). Node's own message, `listen EADDRINUSE: address already in use 127.0.0.1:8787`, named
 * neither the config file nor the key to change.
 */
let holder: Server;
let port: number;

beforeAll(async () => {
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  port = (holder.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => holder?.close(() => resolve()));
});

function configWith(section: Record<string, unknown>): string {
  const dir = tempDir('warden-port-taken-');
  const configFile = join(dir, 'warden.yaml');
  writeFileSync(configFile, stringify({ dangerouslyAllowAnonymous: true, upstreams: { acme: upstreams.acme() }, audit: { file: 'audit.jsonl' }, ...section }));
  return configFile;
}

describe('a taken listening port names the config file and the key', () => {
  it('listen.http port taken: exit 4, "<config>: listen.http: 127.0.0.1:<port> is already in use"', async () => {
    const configFile = configWith({ listen: { stdio: false, http: { port } } });
    const r = await runUntilExit(configFile);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`${configFile}: listen.http: 127.0.0.1:${port} is already in use (EADDRINUSE)`);
    expect(r.stderr).toContain('listen.http.port');
  });

  it('control.port taken: exit 4, "<config>: control.port: 127.0.0.1:<port> is already in use"', async () => {
    const configFile = configWith({ control: { port } });
    const r = await runUntilExit(configFile);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`${configFile}: control.port: 127.0.0.1:${port} is already in use (EADDRINUSE)`);
  });
});
