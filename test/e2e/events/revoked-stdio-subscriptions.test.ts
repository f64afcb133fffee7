import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identityEnv } from '../../helpers/identity-env.js';
import { runWardenCli, startStdioWarden } from '../../helpers/identity-warden.js';
import { TRANSPARENT_POLICY } from '../../helpers/paths.js';
import { until } from '../../helpers/progress.js';

/**
 * A revocation does not close a stdio session: every later request of it is refused instead.
 * Warden itself must not go on acting for it either: when the upstream restarts, re-sending the
 * revoked caller's subscriptions would be a request on its behalf that nobody may make now (and
 * would bring it the upstream's updates again). With the caller in standing they are restored.
 */
const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

/**
 * Pids of processes whose command line contains `needle`, and (`parent`) whose parent is that
 * pid. One `ps` for both: asking for each pid's parent afterwards failed when another test's
 * process exited in between.
 */
function pidsOf(needle: string, parent?: number): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(needle))
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter(([, ppid]) => parent === undefined || ppid === parent)
    .map(([pid]) => pid!);
}

describe('subscriptions of a revoked stdio caller', () => {
  it('are restored while the caller stands, and not when the upstream restarts after the revocation (revoked caller re-subscribed by warden)', async () => {
    const env = await identityEnv('warden-e2e-revsub-');
    const tokenFile = join(env.dir, 'agent.jwt');
    const readLog = join(env.dir, 'acme-reads.jsonl');
    writeFileSync(readLog, '');
    writeFileSync(tokenFile, await env.mint({ user: 'alice', actor: 'agent-7' }));
    const config = env.config({ identity: env.identity({ token: { file: tokenFile } }), policy: { files: [TRANSPARENT_POLICY], watch: false } }, { ACME_READ_LOG: readLog });
    const agent = await startStdioWarden(env.dir, config);
    closers.push(() => agent.close());
    const subscribed = (): string[] => (existsSync(readLog) ? readFileSync(readLog, 'utf8') : '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { subscribe?: string }).flatMap((r) => (r.subscribe ? [r.subscribe] : []));

    // Warden's child ACME (found through this test's own warden, by its config path), killed: it restarts.
    const [warden] = pidsOf(join(env.dir, 'warden.yaml'));
    const restarts = (): number => agent.stderr.filter((l) => l.includes('upstream restarted')).length;
    const crashAcme = async (): Promise<void> => {
      const before = restarts();
      const acme = pidsOf('acme-server', warden);
      expect(acme).toHaveLength(1);
      process.kill(acme[0]!, 'SIGKILL');
      await until(() => restarts() > before, 10_000);
      // Time for a restore to arrive, had warden sent one.
      await new Promise((r) => setTimeout(r, 500));
    };

    await agent.client.subscribeResource({ uri: 'acme://files/docs/readme.txt' });
    expect(subscribed()).toEqual(['acme://files/docs/readme.txt']);
    // In standing: the restarted upstream gets the subscription again.
    await crashAcme();
    expect(subscribed()).toEqual(['acme://files/docs/readme.txt', 'acme://files/docs/readme.txt']);

    const out = await runWardenCli(['revoke', '--user', 'alice', '--token-file', env.adminTokenFile, '--json']);
    expect(out.status).toBe(0);
    // The session is refused from now on...
    await expect(agent.client.listTools()).rejects.toMatchObject({ code: -32600 });
    // ...and warden does not subscribe for the revoked caller when the upstream restarts again.
    await crashAcme();
    expect(subscribed()).toEqual(['acme://files/docs/readme.txt', 'acme://files/docs/readme.txt']);
  }, 30_000);
});
