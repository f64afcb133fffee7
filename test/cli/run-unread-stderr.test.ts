import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { WARDEN_MAIN } from '../helpers/paths.js';
import { acmeConfig, tempDir } from '../helpers/warden-process.js';

// An upstream that floods its stderr: warden logs each line at debug, so warden's own stderr
// fills up quickly when nobody reads it.
const CHATTY = "const s = 'x'.repeat(200) + '\\n'; setInterval(() => { for (let i = 0; i < 50; i++) process.stderr.write(s); }, 5);";

describe('warden run whose stderr nobody reads', () => {
  it('still exits after SIGTERM when the agent never reads its stderr (no hang on the last log flush)', async () => {
    const dir = tempDir();
    const configFile = join(dir, 'warden.yaml');
    writeFileSync(configFile, stringify(acmeConfig({ upstreams: { chatty: { command: process.execPath, args: ['-e', CHATTY] } }, logging: { level: 'debug' }, timeouts: { initializeMs: 60_000 } })));
    const child = spawn(process.execPath, [WARDEN_MAIN, 'run', '--config', configFile], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.pause(); // never read: the pipe fills up
    // initialize makes warden start the chatty upstream (which never answers).
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n`);
    await new Promise((r) => setTimeout(r, 2_000));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const outcome = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 12_000))]);
    if (outcome === 'hung') child.kill('SIGKILL');
    expect(outcome).toBe(0);
  }, 20_000);
});
