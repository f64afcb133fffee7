import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateSigningKey, mintToken, type SigningAlgorithm } from '../src/identity/dev-tokens.js';
import { IdentityConfigSchema } from '../src/identity/identity-config.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../src/identity/jwt-authenticator.js';
import type { BenchReport } from './bench-report.js';

const ISS = 'https://idp.bench';
const AUD = 'https://warden.bench/mcp';
/** Steady-state identity cost per call on a cache hit (issue target). */
const TARGET_HIT_NS = 2000;
const TARGET_HIT_RATIO = 0.99;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function authenticatorFor(alg: SigningAlgorithm) {
  const key = await generateSigningKey({ alg, kid: `${alg}-1` });
  const config = IdentityConfigSchema.parse({
    resource: AUD,
    issuers: [{ issuer: ISS, audience: AUD, publicKeys: [{ jwk: key.publicJwk }], algorithms: [alg] }],
    requiredScopes: ['tools:call'],
    extraClaims: ['groups'],
  });
  return { key, auth: await createJwtAuthenticator(config) };
}

/** A realistic ~1 KB delegation token. */
function mint(key: Awaited<ReturnType<typeof generateSigningKey>>, i: number): Promise<string> {
  return mintToken({
    key, issuer: ISS, audience: AUD, subject: `user-${i}@example.com`, actor: 'agent-7', actorChain: ['planner'],
    scope: 'tools:call files:read files:write', ttlSeconds: 3600, sessionId: `sid-${i}`,
    claims: { groups: ['engineering', 'oncall'], pad: 'x'.repeat(520) },
  });
}

/** Cold verification: every token distinct, so every call verifies a signature. */
async function coldRate(alg: SigningAlgorithm, n: number): Promise<{ perSec: number; p50us: number; p99us: number }> {
  const { key, auth } = await authenticatorFor(alg);
  const tokens = await Promise.all(Array.from({ length: n + 100 }, (_, i) => mint(key, i)));
  for (const t of tokens.slice(0, 100)) await auth.verifyToken(t); // warm-up (JIT, key import)
  const samples: number[] = [];
  const start = process.hrtime.bigint();
  for (const t of tokens.slice(100)) {
    const t0 = process.hrtime.bigint();
    const r = await auth.verifyToken(t);
    samples.push(Number(process.hrtime.bigint() - t0));
    if (!r.ok) throw new Error(`bench token rejected: ${r.reason}`);
  }
  const total = Number(process.hrtime.bigint() - start);
  samples.sort((a, b) => a - b);
  await auth.close();
  return { perSec: (n / total) * 1e9, p50us: quantile(samples, 0.5) / 1000, p99us: quantile(samples, 0.99) / 1000 };
}

/** Cached path: a stream of HTTP authentications over a handful of distinct tokens. */
async function cachedCost(auth: JwtAuthenticator, headers: string[], calls: number, batch: number) {
  const perCall: number[] = [];
  let i = 0;
  for (let done = 0; done < calls; done += batch) {
    const t0 = process.hrtime.bigint();
    for (let j = 0; j < batch; j++) {
      const r = await auth.authenticateHttp(headers[i++ % headers.length]);
      if (!r.ok) throw new Error(`bench call rejected: ${r.reason}`);
    }
    perCall.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  perCall.sort((a, b) => a - b);
  return { p50ns: quantile(perCall, 0.5), p99ns: quantile(perCall, 0.99) };
}

/** stdio path: token file re-checked (stat) on every call, verification cached. */
async function stdioCost(key: Awaited<ReturnType<typeof generateSigningKey>>) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  writeFileSync(join(dir, 'token'), await mint(key, 0));
  const config = IdentityConfigSchema.parse({
    resource: AUD,
    issuers: [{ issuer: ISS, audience: AUD, publicKeys: [{ jwk: key.publicJwk }], algorithms: [key.alg] }],
    token: { file: join(dir, 'token') },
  });
  const auth = await createJwtAuthenticator(config);
  const perCall: number[] = [];
  for (let b = 0; b < 120; b++) {
    const t0 = process.hrtime.bigint();
    for (let j = 0; j < 1000; j++) if (!(await auth.authenticateStdio()).ok) throw new Error('stdio bench rejected');
    if (b >= 20) perCall.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  await auth.close();
  rmSync(dir, { recursive: true, force: true });
  perCall.sort((a, b) => a - b);
  return { p50ns: quantile(perCall, 0.5), p99ns: quantile(perCall, 0.99) };
}

/** Runs the identity benchmark: cold verify rate per algorithm and cached cost per call. */
export async function runIdentityBench(): Promise<BenchReport> {
  const lines: string[] = [];
  for (const [alg, n] of [['ES256', 2000], ['EdDSA', 2000], ['RS256', 1000]] as const) {
    const r = await coldRate(alg, n);
    lines.push(`cold verify ${alg.padEnd(5)}: ${r.perSec.toFixed(0).padStart(6)} tokens/s  p50 ${r.p50us.toFixed(1)} µs  p99 ${r.p99us.toFixed(1)} µs`);
  }
  const { key, auth } = await authenticatorFor('ES256');
  const headers = await Promise.all(Array.from({ length: 5 }, async (_, i) => `Bearer ${await mint(key, i)}`));
  const tokenBytes = headers[0]!.length - 7;
  const before = auth.cacheStats(); // counted from the first call: the misses that fill the cache count
  await cachedCost(auth, headers, 50_000, 1000); // warm-up
  const calls = 500_000;
  const hit = await cachedCost(auth, headers, calls, 1000);
  const after = auth.cacheStats();
  const hits = after.hits - before.hits;
  const misses = after.misses - before.misses;
  const ratio = hits / Math.max(1, hits + misses);
  await auth.close();
  lines.push(`cached authenticateHttp (${headers.length} distinct ~${tokenBytes}-byte tokens, ${calls} calls): p50 ${hit.p50ns.toFixed(0)} ns/call  p99(batch) ${hit.p99ns.toFixed(0)} ns/call  target < ${TARGET_HIT_NS} ns`);
  lines.push(`cache hit ratio: ${(ratio * 100).toFixed(3)}% (${hits} hits, ${misses} misses, warm-up included)  target > ${TARGET_HIT_RATIO * 100}%`);
  const stdio = await stdioCost(key);
  lines.push(`cached authenticateStdio (token file, stat per call): p50 ${stdio.p50ns.toFixed(0)} ns/call  p99(batch) ${stdio.p99ns.toFixed(0)} ns/call  (informational)`);
  const ok = hit.p50ns < TARGET_HIT_NS && ratio > TARGET_HIT_RATIO;
  lines.push(`identity targets ${ok ? 'met' : 'NOT met'}`);
  return {
    name: 'identity',
    lines,
    ok,
    targets: [
      { figure: `cached token check p50 ${hit.p50ns.toFixed(0)} ns/call`, target: `< ${TARGET_HIT_NS} ns`, met: hit.p50ns < TARGET_HIT_NS },
      { figure: `cache hit ratio ${(ratio * 100).toFixed(3)}%`, target: `> ${TARGET_HIT_RATIO * 100}%`, met: ratio > TARGET_HIT_RATIO },
    ],
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runIdentityBench().then(
    (report) => {
      process.stdout.write(`== ${report.name} ==\n${report.lines.join('\n')}\n`);
      process.exitCode = report.ok ? 0 : 1;
    },
    (err: unknown) => {
      process.stderr.write(`identity bench failed: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
