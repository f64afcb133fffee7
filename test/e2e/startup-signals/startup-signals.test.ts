import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKey, mintToken } from '../../../src/identity/dev-tokens.js';
import { readAudit } from '../../helpers/audit-e2e-warden.js';
import { upstreams } from '../../helpers/paths.js';
import {
  holdingKeyServer, initializeRequest, isAlive, lastRecord, NEVER_INITIALIZES_SERVER, readCheckpoint, scenarioDir, spawnWarden,
  upstreamPid, verifyAudit, writeScenarioConfig, type HoldingKeyServer, type ScenarioDir,
} from '../../helpers/startup-signals-warden.js';

// Spawns the compiled CLI: build first (`npx tsc -p tsconfig.json`).

const ISSUER = 'https://idp.startup-signals.test';
const RESOURCE = 'https://warden.startup-signals.test/mcp';

/** The stdio token is verified at start-up, so warden fetches the key set before it serves. */
function identityWithKeyServer(jwksUri: string): Record<string, unknown> {
  // A long fetch timeout: only the stop request can end the held fetch within the test's time.
  return { resource: RESOURCE, token: { env: 'WARDEN_TOKEN' }, issuers: [{ issuer: ISSUER, audience: RESOURCE, jwksUri, jwks: { timeout: 120 } }] };
}

function neverInitializes(d: ScenarioDir, env: Record<string, string> = {}): Record<string, unknown> {
  return { command: process.execPath, args: [NEVER_INITIALIZES_SERVER], env: { NEVER_INIT_PID_FILE: d.pidFile, ...env } };
}

/** The log verifies, ends with warden.stop, its checkpoint says closed, and no writer lock is left. */
function expectStoppedCleanly(d: ScenarioDir, reason: string): void {
  const verified = verifyAudit(d);
  expect(verified.report.problem).toBeUndefined();
  expect(verified.code).toBe(0);
  const last = lastRecord(d);
  expect(last).toMatchObject({ type: 'warden.stop', reason });
  expect(readCheckpoint(d)).toMatchObject({ closed: true, seq: last.seq });
  expect(existsSync(d.lockFile)).toBe(false);
}

describe('warden run: SIGINT/SIGTERM during start-up', () => {
  let keyServer: HoldingKeyServer | undefined;
  const children: number[] = [];
  afterEach(async () => {
    await keyServer?.close();
    keyServer = undefined;
    // A failed test must not leave a stuck upstream behind on the machine.
    for (const pid of children.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('a %s while start-up waits for the key server does not leave an unclean audit log', async (sig) => {
    const d = scenarioDir();
    keyServer = await holdingKeyServer();
    const key = await generateSigningKey({ kid: 'startup-signals-1' });
    const token = await mintToken({ key, issuer: ISSUER, audience: RESOURCE, subject: 'alice', ttlSeconds: 600 });
    writeScenarioConfig(d, { identity: identityWithKeyServer(keyServer.url), upstreams: { acme: upstreams.acme() } });
    const warden = spawnWarden(d.configFile, { WARDEN_TOKEN: token });
    // The key set is fetched after the audit log is open: warden is now mid start-up.
    await keyServer.requested();
    expect(lastRecord(d).type).toBe('config.loaded');
    warden.signal(sig);
    expect(await warden.exited).toEqual({ code: 0, signal: null });
    expectStoppedCleanly(d, sig);
    expect(warden.stderr.join('\n')).not.toContain('"msg":"warden started"');
    // The cancelled key fetch is not a key-server failure: the start-up token check was cut short.
    const identityFailures = readAudit(d.auditFile).filter((r) => r.type === 'identity.failed');
    expect(identityFailures.map((r) => r.reason)).toEqual(['startup_interrupted']);

    // The next run on the same log continues the chain without reporting an unclean stop.
    keyServer.answerWith(key.jwks);
    const before = readAudit(d.auditFile).length;
    const next = spawnWarden(d.configFile, { WARDEN_TOKEN: token });
    await next.logged('warden started');
    next.signal('SIGTERM');
    expect(await next.exited).toEqual({ code: 0, signal: null });
    const types = readAudit(d.auditFile).slice(before).map((r) => r.type);
    expect(types[0]).toBe('warden.start');
    expect(types).not.toContain('audit.recovered');
    expect(next.stderr.join('\n')).not.toContain('unclean stop');
    expectStoppedCleanly(d, 'SIGTERM');
  });

  it('a SIGHUP during start-up neither kills warden nor is lost: the reload runs once warden has started', async () => {
    const d = scenarioDir();
    keyServer = await holdingKeyServer();
    const key = await generateSigningKey({ kid: 'startup-signals-hup' });
    const token = await mintToken({ key, issuer: ISSUER, audience: RESOURCE, subject: 'alice', ttlSeconds: 600 });
    writeScenarioConfig(d, { identity: identityWithKeyServer(keyServer.url), upstreams: { acme: upstreams.acme() } });
    const warden = spawnWarden(d.configFile, { WARDEN_TOKEN: token });
    await keyServer.requested();
    warden.signal('SIGHUP');
    await warden.logged('SIGHUP during start-up: the policy is reloaded once warden has started');
    keyServer.answerWith(key.jwks);
    await warden.logged('warden started');
    await warden.logged('policy reload requested');
    warden.signal('SIGTERM');
    expect(await warden.exited).toEqual({ code: 0, signal: null });
    expectStoppedCleanly(d, 'SIGTERM');
  });

  it('a SIGTERM while an upstream is still initializing leaves no orphaned upstream child', async () => {
    const d = scenarioDir();
    writeScenarioConfig(d, { dangerouslyAllowAnonymous: true, upstreams: { slow: neverInitializes(d) } });
    const warden = spawnWarden(d.configFile);
    await warden.logged('warden started');
    warden.send(initializeRequest());
    const child = await upstreamPid(d);
    children.push(child);
    expect(isAlive(child)).toBe(true);
    warden.signal('SIGTERM');
    expect(await warden.exited).toEqual({ code: 0, signal: null });
    expect(isAlive(child)).toBe(false);
    expectStoppedCleanly(d, 'SIGTERM');
  });

  it('a second SIGINT while stopping does not abandon the stop half-way (stuck upstream still stopped)', async () => {
    const d = scenarioDir();
    // This upstream ignores the end of its stdin: warden has to wait 2 s, then SIGTERM it.
    writeScenarioConfig(d, { dangerouslyAllowAnonymous: true, upstreams: { stuck: neverInitializes(d, { NEVER_INIT_IGNORE_EOF: '1' }) } });
    const warden = spawnWarden(d.configFile);
    await warden.logged('warden started');
    warden.send(initializeRequest());
    const child = await upstreamPid(d);
    children.push(child);
    warden.signal('SIGINT');
    await warden.logged('shutting down');
    warden.signal('SIGINT');
    expect(await warden.exited).toEqual({ code: 0, signal: null });
    expect(isAlive(child)).toBe(false);
    expectStoppedCleanly(d, 'SIGINT');
  });
});
