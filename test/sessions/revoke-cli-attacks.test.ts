import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubjectRegistry } from '../../src/events/subject-registry.js';
import { SessionRegistry } from '../../src/sessions/session-registry.js';
import { sessionRoutes } from '../../src/sessions/session-routes.js';
import { MemoryStateStore } from '../../src/state/memory-store.js';
import { startControlHarness } from '../events/control-harness.js';
import { MemoryAudit } from '../events/set-helpers.js';
import { runCli } from './run-cli.js';

/**
 * `warden revoke --user alice --user bob` took the last value only: bob was revoked, alice kept
 * working, and the exit code said all went well. An operator revoking in a hurry (or a script
 * passing a list) must be told, not half-served: a repeated target is a usage error, and nothing
 * is revoked.
 */
const T0 = 1_700_000_000_000;

describe('warden revoke with a repeated target', () => {
  let harness: Awaited<ReturnType<typeof startControlHarness>>;
  let tokenFile: string;
  const registry = new SubjectRegistry({ store: new MemoryStateStore(), audit: new MemoryAudit(), clock: () => T0 });

  beforeAll(async () => {
    harness = await startControlHarness(sessionRoutes(new SessionRegistry(), registry, () => T0), 'admin-secret');
    tokenFile = join(mkdtempSync(join(tmpdir(), 'warden-revoke-')), 'admin-token');
    writeFileSync(tokenFile, 'admin-secret\n');
  });
  afterAll(async () => harness.close());

  for (const flag of ['--user', '--session', '--agent']) {
    it(`refuses ${flag} given twice (usage, exit 2) and revokes nothing`, async () => {
      const r = await runCli(['revoke', flag, 'first', flag, 'second', '--url', harness.url, '--token-file', tokenFile]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(registry.list(T0)).toHaveLength(0);
    });
  }
});
