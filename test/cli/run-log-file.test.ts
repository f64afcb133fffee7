import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runUntilExit } from '../helpers/ops-warden.js';
import { acmeConfig, tempDir } from '../helpers/warden-process.js';

describe('warden run with a log file it cannot open', () => {
  it('a logging.file that is a folder is a config error (exit 3, naming the key), not a crash that leaves the audit log unclosed', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    const configFile = join(dir, 'warden.yaml');
    writeFileSync(configFile, stringify(acmeConfig({ logging: { level: 'info', file: 'logs' }, audit: { file: 'audit.jsonl' } })));
    // stdin stays open (as with a real agent): only the log failure can end this run.
    const r = await runUntilExit(configFile, 15_000);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${configFile}: logging.file:`);
    expect(r.stderr).not.toContain('Unhandled');
    // Refused before anything was started: no audit log was opened, so none is left unclosed.
    expect(existsSync(join(dir, 'audit.jsonl'))).toBe(false);
  });
});
