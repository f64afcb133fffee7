import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { WardenConfigSchema } from '../../src/config/config-schema.js';
import { ConfigError } from '../../src/core/errors.js';
import type { Logger } from '../../src/logging/logger.js';
import { loadPolicySync } from '../../src/policy/load-policy.js';
import { createPolicyHolder } from '../../src/policy/policy-holder.js';
import { checkPolicyFilesExist, policyClaimsCheck, policyUpstreamsCheck, unmatchedUpstreams, unseenClaims, warnPolicyMode } from '../../src/runtime/policy-checks.js';
import { REPO_ROOT, TRANSPARENT_POLICY } from '../helpers/paths.js';
import { tempDir } from '../helpers/warden-process.js';

const CLAIMS_POLICY = join(REPO_ROOT, 'test/fixtures/runtime/claims-policy.yaml');
const identity = { resource: 'https://w/mcp', issuers: [{ issuer: 'https://i', audience: 'w', jwksFile: 'j.json' }], token: { env: 'T' } };
const upstreams = { acme: { command: 'node' } };

function spyLogger(): Logger & { warn: ReturnType<typeof vi.fn> } {
  return { warn: vi.fn(), info: vi.fn(), error: vi.fn(), debug: vi.fn() } as unknown as Logger & { warn: ReturnType<typeof vi.fn> };
}

describe('policy claims conditions against identity.extraClaims', () => {
  it('finds a claims condition on a claim the principal never carries', () => {
    expect(unseenClaims(loadPolicySync([CLAIMS_POLICY]), [])).toEqual([{ ruleId: 'payments-group-only', claim: 'groups', policyFile: CLAIMS_POLICY }]);
    expect(unseenClaims(loadPolicySync([CLAIMS_POLICY]), ['groups'])).toEqual([]);
  });

  it('refuses to start with a rule on an unlisted claim (it would silently never see a value)', () => {
    const config = WardenConfigSchema.parse({ identity, upstreams });
    const check = policyClaimsCheck(config, '/etc/warden.yaml', spyLogger());
    let err: unknown;
    try {
      check(loadPolicySync([CLAIMS_POLICY]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).keyPath).toBe('identity.extraClaims');
    expect((err as ConfigError).message).toContain('payments-group-only');
    expect((err as ConfigError).message).toContain(CLAIMS_POLICY);
    expect((err as ConfigError).message).toContain("'groups'");
  });

  it('passes when extraClaims lists the claim; warns when only a security event or nothing can supply it', () => {
    const listed = WardenConfigSchema.parse({ identity: { ...identity, extraClaims: ['groups'] }, upstreams });
    expect(() => policyClaimsCheck(listed, 'w.yaml', spyLogger())(loadPolicySync([CLAIMS_POLICY]))).not.toThrow();
    const anonymous = WardenConfigSchema.parse({ dangerouslyAllowAnonymous: true, upstreams });
    const logger = spyLogger();
    policyClaimsCheck(anonymous, 'w.yaml', logger)(loadPolicySync([CLAIMS_POLICY]));
    expect(logger.warn).toHaveBeenCalledOnce();
    expect(String(logger.warn.mock.calls[0]![1])).toContain('payments-group-only');
  });

  it('a reload that adds such a rule is rejected and the running policy stays', async () => {
    const dir = tempDir('warden-claims-');
    const file = join(dir, 'policy.yaml');
    copyFileSync(TRANSPARENT_POLICY, file);
    const config = WardenConfigSchema.parse({ identity, upstreams });
    const holder = createPolicyHolder({ files: [file], watch: false, check: policyClaimsCheck(config, 'w.yaml', spyLogger()) });
    const before = holder.current().hash;
    copyFileSync(CLAIMS_POLICY, file);
    const result = await holder.reload();
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.code).toBe('config_invalid');
    expect(holder.current().hash).toBe(before);
    holder.close();
  });
});

describe('monitor mode is announced', () => {
  it('warns that enforcement is off when a monitor-mode policy loads, and when enforcement is back', () => {
    const dir = tempDir('warden-mode-');
    const monitor = join(dir, 'monitor.yaml');
    writeFileSync(monitor, `version: "1"\nmode: monitor\ndefaults: { sensitivity: low, unclassifiedAction: block, high: approve, critical: block }\n`);
    const logger = spyLogger();
    const m = loadPolicySync([monitor]);
    warnPolicyMode(m, undefined, logger);
    expect(logger.warn).toHaveBeenCalledOnce();
    expect(logger.warn.mock.calls[0]![0]).toMatchObject({ mode: 'monitor' });
    expect(String(logger.warn.mock.calls[0]![1])).toContain('enforcement is OFF');
    const enforce = loadPolicySync([TRANSPARENT_POLICY]);
    warnPolicyMode(enforce, m, logger);
    expect(logger.warn).toHaveBeenCalledTimes(2);
    warnPolicyMode(enforce, enforce, logger);
    expect(logger.warn).toHaveBeenCalledTimes(2);
  });
});

describe('policy files', () => {
  it('names the policy.files[i] key of a missing file', () => {
    let err: unknown;
    try {
      checkPolicyFilesExist([TRANSPARENT_POLICY, '/nonexistent/p.yaml'], '/etc/warden.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).keyPath).toBe('policy.files[1]');
    expect((err as ConfigError).file).toBe('/etc/warden.yaml');
  });
});

describe('policy upstream globs against the configured upstreams', () => {
  const POLICY = `
version: "upstream-names"
rules:
  - id: block-bank-transfers
    match: { upstreams: [acem], tools: [transfer_funds] }
    action: block
  - id: files-ask
    match: { upstreams: ['fs*'], tools: [write_file] }
    action: approve
  - id: acme-reads
    match: { upstreams: [acme], tools: [read_file] }
    action: allow
sensitivity:
  - { upstreams: [crm], tools: ['*'], level: high }
`;
  function policyFile(): string {
    const file = join(tempDir('warden-upstream-names-'), 'policy.yaml');
    writeFileSync(file, POLICY);
    return file;
  }

  it('names each glob that matches no configured upstream, with the one it likely meant (a misspelt upstream under a block rule never fires)', () => {
    const found = unmatchedUpstreams(loadPolicySync([policyFile()]), ['acme', 'files']);
    expect(found).toEqual([
      { where: "rule 'block-bank-transfers'", pattern: 'acem', meant: 'acme' },
      { where: "rule 'files-ask'", pattern: 'fs*', meant: undefined },
      { where: 'sensitivity[0]', pattern: 'crm', meant: undefined },
    ]);
    expect(unmatchedUpstreams(loadPolicySync([policyFile()]), ['acem', 'fs1', 'crm', 'acme'])).toEqual([]);
  });

  it('warns on load (start-up and reload), never refuses: one policy may serve other deployments', () => {
    const logger = spyLogger();
    const config = WardenConfigSchema.parse({ dangerouslyAllowAnonymous: true, upstreams });
    expect(() => policyUpstreamsCheck(config, logger)(loadPolicySync([policyFile()]))).not.toThrow();
    expect(logger.warn).toHaveBeenCalledOnce();
    expect(String(logger.warn.mock.calls[0]![1])).toContain("rule 'block-bank-transfers' names upstream 'acem' (did you mean 'acme'?)");
    const quiet = spyLogger();
    policyUpstreamsCheck(config, quiet)(loadPolicySync([TRANSPARENT_POLICY]));
    expect(quiet.warn).not.toHaveBeenCalled();
  });
});
