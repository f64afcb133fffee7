import { existsSync } from 'node:fs';
import type { WardenConfig } from '../config/config-schema.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../logging/logger.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { compileGlobs } from '../policy/compile-match.js';
import { loadPolicyFileSync } from '../policy/load-policy.js';
import { closestName } from '../core/closest-name.js';

/** A missing policy file is named by its config key (`policy.files[1]`), not only by its path. */
export function checkPolicyFilesExist(files: readonly string[], configFile: string): void {
  files.forEach((file, i) => {
    if (!existsSync(file)) throw new ConfigError(`policy file ${file} does not exist`, { file: configFile, keyPath: `policy.files[${i}]` });
  });
}

/** One rule condition on a claim warden never puts into the principal. */
export interface UnseenClaim {
  readonly ruleId: string;
  readonly claim: string;
  readonly policyFile: string;
}

/**
 * Claims conditions in rules (`match.claims[].path`) read `Principal.claims`, which holds only the
 * claims listed in `identity.extraClaims` (plus what a `token-claims-change` event sets). A path
 * whose first segment is not listed can never see a value: such a rule silently never matches (or,
 * negated, always matches). Returns each such condition.
 */
export function unseenClaims(policy: CompiledPolicy, extraClaims: readonly string[]): UnseenClaim[] {
  const listed = new Set(extraClaims);
  const out: UnseenClaim[] = [];
  for (const rule of policy.source.rules) {
    for (const condition of rule.match.claims ?? []) {
      // A condition may name several paths (their values are pooled): each is checked.
      for (const path of typeof condition.path === 'string' ? [condition.path] : condition.path) {
        const claim = path.split('.')[0] ?? path;
        if (!listed.has(claim)) out.push({ ruleId: rule.id, claim, policyFile: fileOfRule(policy.files, rule.id) });
      }
    }
  }
  return out;
}

/** The policy file that defines a rule id (ids are unique across files); only read on a finding. */
function fileOfRule(files: readonly string[], ruleId: string): string {
  if (files.length === 1) return files[0] ?? '';
  for (const file of files) {
    try {
      if (loadPolicyFileSync(file).policy.rules.some((r) => r.id === ruleId)) return file;
    } catch {
      // unreadable now: fall through to naming every file
    }
  }
  return files.join(', ');
}

function describe(found: readonly UnseenClaim[]): string {
  return found.map((f) => `rule '${f.ruleId}' in ${f.policyFile} reads claim '${f.claim}'`).join('; ');
}

/**
 * The policy check the holder runs on every load: with an identity section and no event receiver
 * (the only other source of claims), a rule reading an unlisted claim is a configuration error (at
 * start-up warden refuses to start; on reload the running policy is kept). Anonymous mode has no
 * claims at all and an event receiver may supply them, so those cases warn instead.
 */
export function policyClaimsCheck(config: WardenConfig, configFile: string, logger: Logger): (policy: CompiledPolicy) => void {
  const extraClaims = config.identity?.extraClaims ?? [];
  return (policy) => {
    const found = unseenClaims(policy, extraClaims);
    if (found.length === 0) return;
    if (config.identity && !config.events?.enabled) {
      const names = [...new Set(found.map((f) => f.claim))].join(', ');
      throw new ConfigError(
        `${describe(found)}, but identity.extraClaims does not list it, so the principal never carries it and the condition can never see a value; add ${names} to identity.extraClaims`,
        { file: configFile, keyPath: 'identity.extraClaims' },
      );
    }
    const why = config.identity
      ? 'identity.extraClaims does not list them: only a token-claims-change security event can set them'
      : 'anonymous callers carry no claims';
    logger.warn({ findings: found }, `policy claims conditions that cannot see a value (${why}): ${describe(found)}`);
  };
}

/**
 * A monitor-mode policy turns enforcement off. Said loudly at start and on every reload into it,
 * and when a reload turns enforcement back on.
 */
export function warnPolicyMode(policy: CompiledPolicy, previous: CompiledPolicy | undefined, logger: Logger): void {
  if (policy.mode === 'monitor') {
    logger.warn(
      { policyHash: policy.hash, files: policy.files, mode: policy.mode },
      'policy mode is monitor: enforcement is OFF. Every decision is computed, logged and audited, but calls the policy would throttle, hold for approval or block are allowed (revocations and held tool pins still apply). Set mode: enforce to enforce',
    );
  } else if (previous?.mode === 'monitor') {
    logger.warn({ policyHash: policy.hash, files: policy.files, mode: policy.mode }, 'policy mode is enforce again: enforcement is back on');
  }
}

/** An upstream glob in the policy that names none of the configured upstreams. */
export interface UnmatchedUpstream {
  /** `rule '<id>'` or `sensitivity[<i>]`. */
  readonly where: string;
  readonly pattern: string;
  /** The configured upstream it most likely meant, if one is close. */
  readonly meant: string | undefined;
}

/**
 * Upstream globs (`rules[].match.upstreams`, `sensitivity[].upstreams`) that match no upstream in
 * the config: the rule or entry never applies. A misspelt upstream under a block rule is a silent
 * hole (`acem` for `acme`), so each is named with the upstream it most likely meant. Only warned:
 * one policy may serve deployments with other upstreams.
 */
export function unmatchedUpstreams(policy: CompiledPolicy, upstreamNames: readonly string[]): UnmatchedUpstream[] {
  const out: UnmatchedUpstream[] = [];
  const check = (where: string, patterns: readonly string[] | undefined): void => {
    for (const pattern of patterns ?? []) {
      const matches = compileGlobs([pattern]);
      if (matches && !upstreamNames.some((name) => matches(name))) out.push({ where, pattern, meant: closestName(pattern, upstreamNames) });
    }
  };
  for (const rule of policy.source.rules) check(`rule '${rule.id}'`, rule.match.upstreams);
  policy.source.sensitivity.forEach((entry, i) => check(`sensitivity[${i}]`, entry.upstreams));
  return out;
}

/** The holder's load check for upstream names: warns on every load (start-up and reload) that finds any. */
export function policyUpstreamsCheck(config: WardenConfig, logger: Logger): (policy: CompiledPolicy) => void {
  const names = Object.keys(config.upstreams);
  return (policy) => {
    const found = unmatchedUpstreams(policy, names);
    if (found.length === 0) return;
    const text = found.map((f) => `${f.where} names upstream '${f.pattern}'${f.meant ? ` (did you mean '${f.meant}'?)` : ''}`).join('; ');
    logger.warn({ findings: found, files: policy.files, upstreams: names }, `policy names upstreams this config does not have, so those rules and entries never apply: ${text}`);
  };
}

/** Runs each load check in turn; the first that throws refuses the policy. */
export function allChecks(...checks: ReadonlyArray<(policy: CompiledPolicy) => void>): (policy: CompiledPolicy) => void {
  return (policy) => {
    for (const check of checks) check(policy);
  };
}
