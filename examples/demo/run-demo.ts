#!/usr/bin/env node
/**
 * `npm start`: the main job end to end. A scripted agent (alice acting through demo-agent, a real
 * signed token) talks to warden over stdio; warden judges every call against
 * examples/demo/demo-policy.yaml and forwards to the ACME example tool server. The story shows
 * allow, throttle, approve (a human in this terminal, or a scripted approver without one), block
 * and a hidden tool, then verifies the audit trail. It checks its own outcome: exit 0 when every
 * call behaved as expected, 1 otherwise.
 */
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { callTool, describeOutcome, type CallOutcome } from './demo-agent.js';
import { consoleApprover, scriptedApprover, waitForControlUrl, type Approver } from './demo-approver.js';
import { AuditReader, explain as explainWith, ruleActionsOf, runWarden, type AuditRecord } from './demo-audit.js';
import { createDemoSetup, DEMO_POLICY, WARDEN_MAIN, type DemoSetup } from './demo-setup.js';

const print = (line = ''): void => void process.stdout.write(`${line}\n`);
const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
/** Why a call was decided, from its audit record and the actions of the demo policy's rules. */
const ruleActions = ruleActionsOf(DEMO_POLICY);
const explain = (d: AuditRecord | undefined): string => explainWith(d, ruleActions);

/** Collects what did not behave as expected; the exit code comes from it. */
class Checks {
  readonly failures: string[] = [];
  expect(ok: boolean, what: string): void {
    if (!ok) {
      this.failures.push(what);
      print(`           !! NOT AS EXPECTED: ${what}`);
    }
  }
}

interface Ctx {
  readonly client: Client;
  readonly audit: AuditReader;
  readonly checks: Checks;
  readonly setup: DemoSetup;
  readonly controlUrl: string;
}

const decisionsIn = (records: AuditRecord[]): AuditRecord[] => records.filter((r) => r.type === 'call.decision');

/** One sequential call: prints the action warden took, what the agent got, and why (from the audit). */
async function step(ctx: Ctx, label: string, tool: string, args: Record<string, unknown>, expect: (o: CallOutcome, d: AuditRecord | undefined) => boolean): Promise<{ outcome: CallOutcome; decision: AuditRecord | undefined }> {
  const outcome = await callTool(ctx.client, tool, args);
  const decision = decisionsIn(ctx.audit.next()).at(-1);
  print(`${label.padEnd(10)} ${tool} ${JSON.stringify(args)}`);
  print(`           → ${describeOutcome(outcome)}`);
  print(`           why: ${explain(decision)}`);
  ctx.checks.expect(expect(outcome, decision), `${label.trim()} ${tool}`);
  return { outcome, decision };
}

async function allowSteps(ctx: Ctx): Promise<void> {
  print('\n1. ALLOW: harmless calls go straight through');
  const allowed = (o: CallOutcome, d: AuditRecord | undefined): boolean => o.kind === 'result' && d?.enforced === 'allow';
  await step(ctx, 'ALLOW', 'echo', { message: 'hello through warden' }, allowed);
  await step(ctx, 'ALLOW', 'read_file', { path: '/docs/readme.txt' }, allowed);
}

async function throttleSteps(ctx: Ctx): Promise<void> {
  print('\n2. THROTTLE: a burst of 5 list_customers calls at once (bucket: 2 at once, then 1 per second, wait at most 1.5 s)');
  const outcomes = await Promise.all(Array.from({ length: 5 }, () => callTool(ctx.client, 'list_customers', { limit: 3 })));
  const records = ctx.audit.next();
  const decisions = decisionsIn(records);
  outcomes.forEach((o, i) => print(`THROTTLE   list_customers #${i + 1} → ${describeOutcome(o)}`));
  print(`           why: ${explain(decisions[0])}`);
  print(`           audit call.throttle: ${throttleTally(records)}`);
  const c = ctx.checks;
  c.expect(decisions.length === 5 && decisions.every((d) => d.action === 'throttle'), 'every burst call decided throttle');
  c.expect(outcomes.some((o) => o.kind === 'result' && o.ms >= 500), 'a throttled call was delayed, then forwarded');
  c.expect(outcomes.some((o) => o.kind === 'refused' && o.meta?.reason === 'throttle_rejected' && (o.meta.retryAfterMs ?? 0) > 0), 'a throttled call was rejected with retry-after');
}

/**
 * The throttle records of the burst as counts: listed one by one in the order warden wrote them,
 * they read as if they matched calls #1..#5 above, which they do not (the calls race).
 */
function throttleTally(records: AuditRecord[]): string {
  const throttle = records.filter((r) => r.type === 'call.throttle');
  const admitted = throttle.filter((r) => r['outcome'] === 'admitted').map((r) => Number(r['waitedMs']));
  const rejected = throttle.filter((r) => r['outcome'] !== 'admitted').map((r) => String(r['reason']));
  const reasons = [...new Set(rejected)].join(', ');
  return `${admitted.length} admitted (waited ${admitted.sort((a, b) => a - b).join(', ')} ms), ${rejected.length} rejected${rejected.length > 0 ? ` (${reasons})` : ''}`;
}

async function approveStep(ctx: Ctx): Promise<string | undefined> {
  print('\n3. APPROVE: a payment above 1000 waits for a person');
  const adminToken = readFileSync(ctx.setup.adminTokenFile, 'utf8').trim();
  let approver: Approver;
  if (interactive) {
    print('           A terminal is attached: answer the request below (a = allow, d = deny).');
    print(`           (From a second terminal: node ${WARDEN_MAIN} approve --url ${ctx.controlUrl} --token-file ${ctx.setup.adminTokenFile})`);
    approver = consoleApprover(ctx.controlUrl, ctx.setup.adminTokenFile);
  } else {
    print('           No terminal attached: a scripted approver answers through the control API.');
    approver = scriptedApprover(ctx.controlUrl, adminToken, 'transfer_funds', print);
  }
  const call = callTool(ctx.client, 'transfer_funds', { amount: 5000, currency: 'EUR', payee: 'ACME Supplies' });
  // If the person quits the console without answering, the scripted approver steps in.
  const first = await Promise.race([call.then(() => 'call' as const), approver.done.then(() => 'approver' as const)]);
  if (first === 'approver' && interactive) {
    print('\n           The approval console closed without an answer; the scripted approver answers instead.');
    scriptedApprover(ctx.controlUrl, adminToken, 'transfer_funds', print);
  }
  const outcome = await call;
  approver.stop();
  const records = ctx.audit.next();
  const decision = decisionsIn(records).at(-1);
  const answered = records.find((r) => r.type === 'call.approval_answered');
  print(`APPROVE    transfer_funds {"amount":5000,"currency":"EUR","payee":"ACME Supplies"}`);
  print(`           → ${describeOutcome(outcome)}`);
  print(`           why: ${explain(decision)}`);
  if (answered) print(`           audit: call.approval_answered ${String(answered['outcome'] ?? '')} by ${String((answered['approver'] as { id?: string } | undefined)?.id ?? '?')}`);
  const humanDenied = interactive && outcome.kind === 'refused' && outcome.meta?.reason === 'approval_denied';
  // Nobody at the terminal answered in time: warden denied the call, which is what it must do.
  // The person watching is told so; the demo has not failed.
  const nobodyAnswered = interactive && outcome.kind === 'refused' && outcome.meta?.reason === 'approval_timeout';
  if (nobodyAnswered) print('           nobody answered in time, so warden denied the call (approval_timeout): a call waiting for a person never goes through by default');
  ctx.checks.expect(decision?.action === 'approve' && (outcome.kind === 'result' || humanDenied || nobodyAnswered), 'approve transfer_funds: pending, answered, then forwarded (or denied by you, or by warden when nobody answered)');
  return decision?.callId;
}

async function blockSteps(ctx: Ctx): Promise<void> {
  print('\n4. BLOCK: what policy forbids never reaches the tool server');
  const blocked = (o: CallOutcome, d: AuditRecord | undefined): boolean => o.kind === 'refused' && o.meta?.action === 'block' && o.meta.reason === 'policy_block' && d?.enforced === 'block';
  await step(ctx, 'BLOCK', 'read_file', { path: '/home/alice/.ssh/id_rsa' }, blocked);
  await step(ctx, 'BLOCK', 'transfer_funds', { amount: 50000, currency: 'EUR', payee: 'Unknown Ltd' }, blocked);
}

async function hiddenStep(ctx: Ctx, listed: readonly string[]): Promise<void> {
  print('\n5. HIDDEN: run_shell needs the tools:shell scope, which alice\'s token lacks');
  print(`           tools/list shows ${listed.length} tools; run_shell ${listed.includes('run_shell') ? 'IS listed' : 'is not among them'}`);
  await step(ctx, 'HIDDEN', 'run_shell', { command: 'cat /etc/passwd' }, (o, d) => o.kind === 'error' && o.code === -32602 && d?.hidden === true);
  ctx.checks.expect(!listed.includes('run_shell'), 'run_shell hidden from tools/list');
}

function auditSummary(ctx: Ctx): void {
  const decisions = decisionsIn(ctx.audit.all());
  const count = (a: string): number => decisions.filter((d) => d.action === a).length;
  print(`\nAudit: ${decisions.length} decisions: ${['allow', 'throttle', 'approve', 'block'].map((a) => `${count(a)} ${a}`).join(', ')}`);
}

async function finalChecks(setup: DemoSetup, checks: Checks, approvedCallId: string | undefined): Promise<void> {
  print(`\n$ warden audit verify ${setup.auditFile}`);
  const verify = await runWarden(['audit', 'verify', setup.auditFile], setup.dir);
  print(verify.out.trimEnd().replace(/^/gm, '  '));
  checks.expect(verify.code === 0, 'warden audit verify exits 0');
  if (!approvedCallId) return;
  print(`\n$ warden audit show ${approvedCallId} --file ${setup.auditFile}`);
  const show = await runWarden(['audit', 'show', approvedCallId, '--file', setup.auditFile], setup.dir);
  print(show.out.trimEnd().replace(/^/gm, '  '));
  checks.expect(show.code === 0, 'warden audit show exits 0');
}

async function main(): Promise<number> {
  const setup = await createDemoSetup();
  print('mcp-warden demo: scripted agent → warden → ACME example tool server');
  print(`  identity: alice acting through demo-agent (on behalf of planner), signed token, scopes "tools:read payments:write"`);
  print(`  policy:   examples/demo/demo-policy.yaml    files: ${setup.dir}`);
  const transport = new StdioClientTransport({ command: process.execPath, args: [WARDEN_MAIN, 'run', '--config', setup.configFile], env: getDefaultEnvironment(), stderr: 'pipe' });
  const stderr: string[] = [];
  transport.stderr?.on('data', (c: Buffer) => stderr.push(c.toString('utf8')));
  const client = new Client({ name: 'demo-agent', version: '1.0.0' });
  const checks = new Checks();
  let approvedCallId: string | undefined;
  try {
    await client.connect(transport);
    const ctx: Ctx = { client, audit: new AuditReader(setup.auditFile), checks, setup, controlUrl: await waitForControlUrl(setup.controlUrlFile) };
    const listed = (await client.listTools()).tools.map((t) => t.name);
    ctx.audit.next();
    await allowSteps(ctx);
    await throttleSteps(ctx);
    approvedCallId = await approveStep(ctx);
    await blockSteps(ctx);
    await hiddenStep(ctx, listed);
    auditSummary(ctx);
  } catch (err) {
    checks.expect(false, `demo aborted: ${(err as Error).message}`);
    if (stderr.length > 0) process.stderr.write(`warden stderr:\n${stderr.join('')}`);
  } finally {
    // Closing stdin stops warden cleanly: it writes warden.stop and the final audit checkpoint.
    await client.close();
  }
  await finalChecks(setup, checks, approvedCallId);
  print(checks.failures.length === 0 ? '\nDemo complete: every call behaved as expected.' : `\nDemo FAILED: ${checks.failures.length} check(s) did not hold: ${checks.failures.join('; ')}`);
  return checks.failures.length === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
