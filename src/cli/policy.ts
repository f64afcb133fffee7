import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toWardenError, WardenError, ConfigError } from '../core/errors.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { policyJsonSchemaText } from '../policy/json-schema.js';
import { loadPolicySync } from '../policy/load-policy.js';
import { runScenario, type ScenarioResult } from '../policy/scenario-runner.js';
import { EXIT, type CliCommand, type CliIo } from './cli-command.js';
import { didYouMean, withOptionHint } from './did-you-mean.js';
import { terminalJson } from '../audit/escape-unsafe.js';
import { terminalMessage } from './terminal-message.js';

const HELP = `Usage: warden policy <check|test|schema> [options]

  warden policy check FILE...      Validate policy files and print a summary
  warden policy test SCENARIO...   Run scripted agent scenarios against their policy
  warden policy schema             Print the JSON Schema of the policy format

Options:
  --json      Machine-readable output (check, test)
  --merge     check: load the files together as one policy (first file + overlays)
  -h, --help  Show this help

Exit codes: 0 ok, 1 a scenario step failed, 2 usage, 3 a file is invalid.
`;

/** A plain summary of a compiled policy, for `check` output. */
export function summarisePolicy(p: CompiledPolicy) {
  const byAction: Record<string, number> = { allow: 0, throttle: 0, approve: 0, block: 0 };
  for (const r of p.rules) byAction[r.action] = (byAction[r.action] ?? 0) + 1;
  return {
    files: p.files,
    version: p.version,
    mode: p.mode,
    hash: p.hash,
    rules: p.rules.length,
    rulesByAction: byAction,
    monitorRules: p.rules.filter((r) => r.mode === 'monitor').map((r) => r.id),
    hideRules: p.rules.filter((r) => r.hide).map((r) => r.id),
    sensitivityEntries: p.classify.length,
    thresholds: p.thresholds,
    defaults: p.defaults,
    redact: { paths: p.redact.paths.length, patterns: p.redact.patterns.length },
  };
}

function errorJson(err: WardenError) {
  return { code: err.code, message: err.message, ...(err instanceof ConfigError ? { file: err.file, keyPath: err.keyPath } : {}) };
}

function check(files: string[], json: boolean, merge: boolean, io: CliIo): number {
  const groups = merge ? [files] : files.map((f) => [f]);
  const results = groups.map((group) => {
    const file = group.join(' + ');
    try {
      return { file, ok: true as const, summary: summarisePolicy(loadPolicySync(group)) };
    } catch (err) {
      return { file, ok: false as const, error: toWardenError(err) };
    }
  });
  const ok = results.every((r) => r.ok);
  if (json) {
    const out = results.map((r) => (r.ok ? { file: r.file, ok: true, ...r.summary } : { file: r.file, ok: false, error: errorJson(r.error) }));
    io.stdout.write(`${terminalJson(JSON.stringify({ ok, results: out }, null, 2))}\n`);
  } else {
    for (const r of results) {
      if (!r.ok) {
        io.stderr.write(`✗ ${terminalMessage(r.error.message)}\n`);
        continue;
      }
      const s = r.summary;
      const actions = Object.entries(s.rulesByAction).map(([a, n]) => `${n} ${a}`).join(', ');
      say(
        io.stdout,
        `✓ ${r.file}: version ${s.version}, mode ${s.mode}, ${s.rules} rules (${actions}), ` +
          `${s.sensitivityEntries} sensitivity entries, thresholds ${s.thresholds.throttle}/${s.thresholds.approve}/${s.thresholds.block}, ` +
          `hash ${s.hash.slice(0, 19)}…\n`,
      );
      if (s.monitorRules.length > 0) say(io.stdout, `  monitor-mode rules: ${s.monitorRules.join(', ')}\n`);
      if (s.hideRules.length > 0) say(io.stdout, `  hiding rules: ${s.hideRules.join(', ')}\n`);
    }
  }
  return ok ? EXIT.ok : EXIT.config;
}

/**
 * Writes text made of what the policy and scenario files say (names, versions, keys quoted in
 * errors, expected codes): those files may come from anyone who can open a pull request, and an
 * ESC/CSI/OSC sequence in them would drive the terminal of whoever runs the check (rewrite the
 * screen, set the title or the clipboard). Control and invisible characters are shown escaped.
 */
function say(stream: NodeJS.WritableStream, text: string): void {
  stream.write(terminalMessage(text));
}

function printScenario(r: ScenarioResult, io: CliIo): void {
  say(io.stdout, `${r.passed ? '✓' : '✗'} ${r.name} (${r.file})\n`);
  for (const s of r.steps) {
    if (!s.checked && s.passed) continue;
    const d = s.decision;
    const t = `+${(s.offsetMs / 1000).toFixed(1)}s`;
    const got = `${d.action}${d.enforced !== d.action ? ` (enforced ${d.enforced})` : ''}, score ${d.score}, ${d.sensitivity}`;
    say(io.stdout, `  ${s.passed ? '✓' : '✗'} ${s.label} ${t} ${s.name} → ${got}\n`);
    for (const m of s.mismatches) say(io.stdout, `      - ${m}\n`);
    if (!s.passed) {
      const reasons = d.reasons.map((x) => `${x.code}(${x.weight})`).join(' ');
      say(io.stdout, `      reasons: ${reasons}\n      rules: ${d.rules.join(', ') || '(none)'}\n`);
    }
  }
}

/**
 * The error of one scenario file. An error in the policy it loads names the policy file only:
 * with several scenarios the operator must also learn which one refers to it.
 */
function scenarioErrorText(file: string, error: WardenError): string {
  const at = error instanceof ConfigError ? error.file : undefined;
  if (at === undefined || resolve(at) === resolve(file)) return error.message;
  return `${file}: policy: ${error.message}`;
}

async function test(files: string[], json: boolean, io: CliIo): Promise<number> {
  const results: ScenarioResult[] = [];
  const errors: { file: string; error: WardenError }[] = [];
  for (const file of files) {
    try {
      results.push(await runScenario(file));
    } catch (err) {
      errors.push({ file, error: toWardenError(err) });
    }
  }
  const passed = errors.length === 0 && results.every((r) => r.passed);
  if (json) {
    const out = { ok: passed, scenarios: results, errors: errors.map((e) => ({ file: e.file, error: errorJson(e.error) })) };
    io.stdout.write(`${terminalJson(JSON.stringify(out, null, 2))}\n`);
  } else {
    for (const r of results) printScenario(r, io);
    for (const e of errors) say(io.stderr, `✗ ${scenarioErrorText(e.file, e.error)}\n`);
    const steps = results.flatMap((r) => r.steps.filter((s) => s.checked));
    const failed = steps.filter((s) => !s.passed).length;
    io.stdout.write(`${results.length} scenarios, ${steps.length - failed}/${steps.length} checked steps passed${errors.length ? `, ${errors.length} invalid files` : ''}\n`);
  }
  if (errors.length > 0) return EXIT.config;
  return passed ? EXIT.ok : EXIT.failure;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, merge: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.stderr.write(`warden policy: ${terminalMessage(withOptionHint(err instanceof Error ? err.message : String(err), HELP))}\n\n${HELP}`);
    return EXIT.usage;
  }
  const [sub, ...files] = parsed.positionals;
  if (parsed.values.help) {
    io.stdout.write(HELP);
    return EXIT.ok;
  }
  const json = parsed.values.json === true;
  // An option the subcommand would ignore is a mistake worth stopping: the operator meant something else.
  if (parsed.values.merge === true && sub !== 'check') {
    io.stderr.write(`warden policy: --merge only goes with check\n\n${HELP}`);
    return EXIT.usage;
  }
  if (sub === 'schema' && files.length === 0) {
    io.stdout.write(policyJsonSchemaText());
    return EXIT.ok;
  }
  if ((sub === 'check' || sub === 'test') && files.length > 0) {
    return sub === 'check' ? check(files, json, parsed.values.merge === true, io) : test(files, json, io);
  }
  io.stderr.write(`warden policy: ${usageProblem(sub, files)}\n\n${HELP}`);
  return EXIT.usage;
}

/** What is wrong with the command line, said so the operator sees what to change. */
function usageProblem(sub: string | undefined, files: readonly string[]): string {
  if (sub === undefined) return 'missing subcommand';
  const subs = ['check', 'test', 'schema'];
  if (!subs.includes(sub)) return `unknown subcommand '${terminalMessage(sub)}'${didYouMean(sub, subs)}`;
  if (sub === 'schema') return 'schema takes no files';
  return `${sub} needs at least one ${sub === 'check' ? 'policy' : 'scenario'} file`;
}

/** `warden policy check|test|schema`. */
export const policyCommand: CliCommand = {
  name: 'policy',
  summary: 'Validate policies, run agent scenarios, print the policy JSON Schema',
  run,
};
