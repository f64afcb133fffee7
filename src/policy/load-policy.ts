import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { assertTrustedFile } from '../core/trusted-file.js';
import { configErrorFromZod } from '../config/zod-error.js';
import { ConfigError } from '../core/errors.js';
import { checkClassLimits } from './class-limits.js';
import { compilePolicy } from './compile-policy.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { PolicySchema, type Policy } from './policy-schema.js';

/**
 * Keys a second (or later) policy file, an overlay, may set: it adds entries, it does not retune
 * the first. `version` and `description` are optional labels there (the first file's version
 * names the merged policy; every file's content is in the policy hash).
 */
const OVERLAY_KEYS = new Set(['$schema', 'version', 'description', 'sensitivity', 'rules', 'redact']);
const OVERLAY_KEY_LIST = 'sensitivity, rules, redact (and the labels version, description, $schema)';

/** A file's place in a list of policy files: the first sets everything, later ones add entries. */
export type PolicyFileRole = 'base' | 'overlay';

/** Parses YAML text into plain data; syntax errors (and duplicate keys) name the file and line. */
export function parsePolicyYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0];
    // The yaml package's message repeats the place and ends in a colon (its code frame follows
    // on the next lines): keep what it says, with the place said once, as the config loader does.
    const what = (first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:$/, '');
    const where = line ? `not valid YAML (line ${line.line}, column ${line.col})` : 'not valid YAML';
    throw new ConfigError(`${where}: ${what}`, { file });
  }
  return doc.toJS({ maxAliasCount: 100 });
}

function isMapping(data: unknown): data is Record<string, unknown> {
  return data !== null && typeof data === 'object' && !Array.isArray(data);
}

/** An overlay may only add entries: any other key is named with what an overlay may set. */
function checkOverlayKeys(data: Record<string, unknown>, file: string): void {
  for (const key of Object.keys(data)) {
    if (!OVERLAY_KEYS.has(key)) {
      throw new ConfigError(`only the first policy file may set '${key}'; a later file (overlay) may set ${OVERLAY_KEY_LIST}`, { file, keyPath: key });
    }
  }
}

/**
 * Validates parsed policy data strictly; errors name file + key path (configErrorFromZod).
 * An overlay is checked for keys it may not set first, and may leave out `version`.
 */
export function validatePolicy(data: unknown, file: string, role: PolicyFileRole = 'base'): Policy {
  let input = data;
  if (role === 'overlay' && isMapping(data)) {
    checkOverlayKeys(data, file);
    // The label is optional in an overlay; the merged policy carries the first file's version.
    if (!Object.hasOwn(data, 'version')) input = { ...data, version: 'overlay' };
  }
  const proto = protoKeyPath(input);
  if (proto !== undefined) throw new ConfigError("a '__proto__' key names nothing in a policy (it would be dropped silently)", { file, keyPath: proto });
  const result = PolicySchema.safeParse(input);
  if (!result.success) throw configErrorFromZod(result.error, file, { schema: PolicySchema, input });
  return result.data;
}

/**
 * The key path of the first own `__proto__` key in parsed policy data. A strict object already
 * refuses one as an unknown key, but a map (`anomalies.rate.perClass`) drops it without a word:
 * the operator's limit for that name would silently not exist.
 */
function protoKeyPath(data: unknown, path = '', depth = 0): string | undefined {
  if (data === null || typeof data !== 'object' || depth > 64) return undefined;
  const entries: Array<[string, unknown]> = Array.isArray(data) ? data.map((v, i) => [`[${i}]`, v]) : Object.keys(data).map((k) => [k, (data as Record<string, unknown>)[k]]);
  for (const [key, value] of entries) {
    const here = key.startsWith('[') ? `${path}${key}` : path === '' ? key : `${path}.${key}`;
    if (key === '__proto__' && !Array.isArray(data)) return here;
    const inner = protoKeyPath(value, here, depth + 1);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/** Reads, parses and validates one policy file. Throws ConfigError. */
export function loadPolicyFileSync(file: string, role: PolicyFileRole = 'base'): { policy: Policy; raw: unknown } {
  // Whoever can rewrite a policy file decides what warden allows.
  assertTrustedFile(file, 'policy file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read policy file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file }, { cause: err });
  }
  const raw = parsePolicyYaml(text, file);
  return { policy: validatePolicy(raw, file, role), raw };
}

/**
 * Merges validated files: the first sets everything; later files may only add `sensitivity`,
 * `rules` and `redact` entries (plus the labels `version`, `description`, `$schema`).
 * Rule ids must be unique across files.
 */
export function mergePolicies(parts: readonly { file: string; policy: Policy; raw: unknown }[]): Policy {
  const [first, ...rest] = parts;
  if (!first) throw new ConfigError('no policy file given');
  const merged: Policy = { ...first.policy, sensitivity: [...first.policy.sensitivity], rules: [...first.policy.rules] };
  const ids = new Map(first.policy.rules.map((r) => [r.id, first.file]));
  for (const part of rest) {
    if (isMapping(part.raw)) checkOverlayKeys(part.raw, part.file);
    part.policy.rules.forEach((r, i) => {
      const prior = ids.get(r.id);
      if (prior !== undefined) {
        throw new ConfigError(`duplicate rule id '${r.id}' (also in ${prior})`, { file: part.file, keyPath: `rules[${i}].id` });
      }
      ids.set(r.id, part.file);
    });
    merged.sensitivity.push(...part.policy.sensitivity);
    merged.rules.push(...part.policy.rules);
    if (part.policy.redact) {
      merged.redact = {
        paths: [...(merged.redact?.paths ?? []), ...part.policy.redact.paths],
        patterns: [...(merged.redact?.patterns ?? []), ...part.policy.redact.patterns],
      };
    }
  }
  return merged;
}

/** Loads, validates, merges and compiles policy files synchronously. Throws ConfigError. */
export function loadPolicySync(files: readonly string[]): CompiledPolicy {
  const parts = files.map((file, i) => ({ file, ...loadPolicyFileSync(file, i === 0 ? 'base' : 'overlay') }));
  return compileMerged(parts, files);
}

/** Async form of loadPolicySync (reads files without blocking). Throws ConfigError. */
export async function loadPolicy(files: readonly string[]): Promise<CompiledPolicy> {
  const parts = await Promise.all(
    files.map(async (file, i) => {
      // A reload re-checks: a file made world-writable since start-up is not trusted either.
      assertTrustedFile(file, 'policy file');
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new ConfigError(`cannot read policy file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file }, { cause: err });
      }
      const raw = parsePolicyYaml(text, file);
      return { file, policy: validatePolicy(raw, file, i === 0 ? 'base' : 'overlay'), raw };
    }),
  );
  return compileMerged(parts, files);
}

/** Merges the files, checks what only the whole can show, and compiles. Throws ConfigError. */
function compileMerged(parts: readonly { file: string; policy: Policy; raw: unknown }[], files: readonly string[]): CompiledPolicy {
  const merged = mergePolicies(parts);
  // The first file sets the anomalies; the classes may come from any file.
  checkClassLimits(merged, parts[0]?.file ?? '');
  return compilePolicy(merged, files);
}
