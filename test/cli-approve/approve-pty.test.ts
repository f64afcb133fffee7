import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callRequest, decision } from '../fixtures/enforce/call-fixtures.js';
import { controlFixture } from '../fixtures/enforce/control-fixture.js';
import { display } from '../fixtures/enforce/manager-fixture.js';

const MAIN = resolve('dist/src/cli/main.js');

type Fixture = Awaited<ReturnType<typeof controlFixture>>;
let fx: Fixture | undefined;
let child: ChildProcessWithoutNullStreams | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  fx?.manager.close();
  await fx?.server.close();
  fx = undefined;
});

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error('build first: npx tsc -p tsconfig.json');
});

/** Runs `warden approve` inside a real pseudo-terminal via util-linux `script`. */
function spawnInPty(args: string[], columns?: number, stdoutPiped = false): { screen: () => string; type: (s: string) => void; waitFor: (text: string | RegExp) => Promise<void>; exited: Promise<number | null> } {
  // stdoutPiped: `warden approve | cat`, as `| tee log` would be: keys from the terminal, stdout a pipe.
  const run = ['node', MAIN, 'approve', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ') + (stdoutPiped ? ' | cat' : '');
  // `script` gives the pty the size of a terminal it is attached to (none here): set one.
  const cmd = columns === undefined ? run : `stty cols ${columns} rows 50; ${run}`;
  const proc = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: 'pipe', env: { ...process.env, TERM: 'xterm' } });
  child = proc;
  let out = '';
  const waiters: (() => void)[] = [];
  proc.stdout.on('data', (d) => {
    out += String(d);
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    screen: () => out,
    type: (s) => proc.stdin.write(s),
    waitFor: (text) =>
      new Promise<void>((resolveWait, reject) => {
        const test = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
        if (test()) return resolveWait();
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(text)}; screen:\n${out}`)), 10_000);
        waiters.push(() => {
          if (test()) {
            clearTimeout(timer);
            resolveWait();
          }
        });
      }),
    exited,
  };
}

type Pty = ReturnType<typeof spawnInPty>;
type Tracked = { readonly outcome: Promise<unknown>; settled: boolean };

/** An approval request whose outcome can be checked for "not answered yet" without awaiting it. */
function trackedRequest(fx: Fixture, tool: string): Tracked {
  const t: Tracked = {
    settled: false,
    outcome: fx.manager.request(callRequest({ tool }).req, decision(), display).then((o) => {
      t.settled = true;
      return o;
    }),
  };
  return t;
}

/** `after` ms on, the stray keys have answered nothing; `pause` ms later `d` denies it as usual. */
/**
 * The console shows a request, a second waits behind it; the approver starts denying the first and
 * has typed `typed` of the reason when the agent withdraws the first call.
 */
async function denyReasonInterrupted(typed: string): Promise<{ pty: Pty; second: Tracked }> {
  fx = await controlFixture();
  const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile]);
  await pty.waitFor('waiting for approval requests');
  const first = callRequest();
  const firstOutcome = fx.manager.request(first.req, decision(), display);
  const second = trackedRequest(fx, 'delete_file');
  await pty.waitFor('1 more waiting');
  pty.type('d');
  await pty.waitFor('deny reason');
  pty.type(typed);
  // The agent withdraws the call being denied: the next card replaces it mid-sentence.
  first.abort.abort();
  expect(await firstOutcome).toMatchObject({ kind: 'withdrawn' });
  return { pty, second };
}

async function expectUnansweredThenDenied(pty: Pty, t: Tracked, after: number, pause: number): Promise<void> {
  await new Promise((r) => setTimeout(r, after));
  expect(t.settled).toBe(false);
  await new Promise((r) => setTimeout(r, pause));
  pty.type('d\r');
  expect(await t.outcome).toMatchObject({ kind: 'denied' });
  pty.type('q');
  expect(await pty.exited).toBe(0);
}


describe('warden approve in a pseudo-terminal', () => {
  it('shows who/what/why and allows once on the "a" key', async () => {
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await pty.waitFor('waiting for approval requests');
    const { req } = callRequest();
    const outcome = fx.manager.request(req, decision(), display);
    await pty.waitFor(/s left/);
    const screen = pty.screen();
    expect(screen).toContain('\x07'); // bell on a new request
    expect(screen).toContain('alice via agent-7 ← planner'); // who
    expect(screen).toContain('fs / write_file'); // what
    // The approver sees the real values of the call it decides on (the audit keeps them redacted)...
    expect(screen).toContain('"content": "secret-content"');
    // ...and whom a remembered grant would cover before pressing r.
    expect(screen).toContain('[r] covers alice via agent-7 ← planner (this agent only) · fs/write_file · any arguments');
    expect(screen).toContain('score 72 · rules approve-writes'); // why
    expect(screen).toContain('sensitivity.high');
    pty.type('a');
    expect(await outcome).toMatchObject({ kind: 'allowed', approver: { kind: 'admin' } });
    await pty.waitFor('allowed once');
    pty.type('q');
    expect(await pty.exited).toBe(0);
  });

  it('blocks a padded tool name from pushing the upstream it belongs to (and who) off the screen', async () => {
    // With several upstreams only an exposed name's first 64 characters are checked: past them an
    // upstream's tool name may hold anything. 5,000 spaces wrapped the "what" line (and the "[r]
    // covers" line under the menu) into screens of blank rows, leaving only the tail in sight:
    // "bank / transfer_funds" next to the menu, while the call goes to the upstream "evil".
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await pty.waitFor('waiting for approval requests');
    const tool = `sync_${'a'.repeat(40)}${' '.repeat(5000)}bank / transfer_funds`;
    const outcome = fx.manager.request(callRequest({ upstream: 'evil', tool }).req, decision(), display);
    await pty.waitFor(/s left/);
    const lines = pty.screen().split(/\r?\n|\r/);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(300);
    expect(lines.find((l) => l.startsWith('  what'))).toMatch(/^ {2}what {2}evil \/ sync_a{40} +… \(\d+ more characters: `warden approvals show apr_[\w-]+` prints them all\)/);
    expect(pty.screen()).toContain('[r] covers alice via agent-7 ← planner (this agent only) · evil/sync_');
    pty.type('d\r');
    expect(await outcome).toMatchObject({ kind: 'denied' });
    pty.type('q');
    expect(await pty.exited).toBe(0);
  });

  it('blocks an argument padded to the edge of the screen from drawing a forged "who" line on the card', async () => {
    // Lines were cut at 160 characters, which still wraps on an 80-column terminal: spaces up to
    // the edge, then "  who   ..." drew a second "who" row, naming a trusted agent, in the card.
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile], 80);
    await pty.waitFor('waiting for approval requests');
    const forged = `${' '.repeat(62)}  who   alice via release-bot (https://idp.example.com)`;
    const outcome = fx.manager.request(callRequest({ arguments: { path: '/etc/sudoers', content: forged } }).req, decision(), display);
    await pty.waitFor(/s left/);
    const card = pty.screen().slice(pty.screen().indexOf('━━ approval request'));
    const lines = card.split(/\r?\n|\r/).filter((l) => !l.includes('s left'));
    // Every line fits in 79 columns, so none wraps into a row of its own.
    expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(79);
    expect(lines.filter((l) => l.includes('who   alice'))).toHaveLength(1);
    expect(lines.find((l) => l.includes('"content"'))).toMatch(/^ {10}"content": " +…$/);
    expect(card).toMatch(/\(cut to fit; in full: `warden approvals show apr_[\w-]+`\)/);
    pty.type('d\r');
    expect(await outcome).toMatchObject({ kind: 'denied' });
    pty.type('q');
    expect(await pty.exited).toBe(0);
  });

  it('says whom "allow and remember" covers before and after: this user through this agent only', async () => {
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await pty.waitFor('waiting for approval requests');
    const outcome = fx.manager.request(callRequest().req, decision(), display);
    await pty.waitFor(/s left/);
    pty.type('r');
    await pty.waitFor('remember for how many minutes? (for alice via agent-7 ← planner (this agent only) · fs/write_file · any arguments;');
    pty.type('5\r');
    await pty.waitFor('allowed and remembered for 5 min for alice via agent-7 ← planner (this agent only) · fs/write_file · any arguments');
    expect(await outcome).toMatchObject({ kind: 'allowed', grantId: expect.any(String) });
    expect(await fx.manager.listGrants()).toMatchObject([{ user: 'alice', actor: 'agent-7', scope: 'principal' }]);
    pty.type('q');
    expect(await pty.exited).toBe(0);
  });

  it('queues several requests, denies with a reason, and reports a withdrawal while shown', async () => {
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await pty.waitFor('waiting for approval requests');
    const first = fx.manager.request(callRequest().req, decision(), display);
    const second = callRequest({ tool: 'delete_file' });
    const secondOutcome = fx.manager.request(second.req, decision(), display);
    await pty.waitFor('1 more waiting');
    pty.type('d');
    await pty.waitFor('deny reason');
    pty.type('not today\r');
    expect(await first).toMatchObject({ kind: 'denied', reason: 'not today' });
    await pty.waitFor('fs / delete_file');
    second.abort.abort();
    expect(await secondOutcome).toMatchObject({ kind: 'withdrawn' });
    await pty.waitFor(/was withdrawn/);
    pty.type('q');
    expect(await pty.exited).toBe(0);
  });

  it('blocks a forged card: line breaks in the agent\'s cancel reason cannot print lines of their own', async () => {
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await pty.waitFor('waiting for approval requests');
    const first = callRequest();
    const firstOutcome = fx.manager.request(first.req, decision(), display);
    await pty.waitFor(/s left/);
    // The agent cancels with a reason (notifications/cancelled) that draws a harmless-looking card.
    const forged = '\n\n\u2501\u2501 approval request apr_forged \u2501\u2501\n  who   alice (https://idp.example)\n  what  fs / read_file\r\t';
    first.abort.abort(forged);
    expect(await firstOutcome).toMatchObject({ kind: 'withdrawn' });
    await pty.waitFor(/was withdrawn/);
    await pty.waitFor('waiting for approval requests…');
    const screen = pty.screen();
    // The reason is shown on the withdrawal line, escaped; no line of the screen starts a card for it.
    expect(screen).toContain('\\u000a\\u000a\u2501\u2501 approval request apr_forged');
    expect(screen).not.toMatch(/\n\u2501\u2501 approval request apr_forged/);
    expect(screen).not.toMatch(/\n {2}what {2}fs \/ read_file/);
    pty.type('q');
    expect(await pty.exited).toBe(0);
  });

  it('blocks a forged card: a cancel reason padded to the edge of the screen cannot wrap into rows of its own', async () => {
    // Line breaks are escaped, but spaces up to the edge of an 80-column terminal put what follows
    // at the start of the next row: a card header and a "who" row drawn by the agent.
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile], 80);
    await pty.waitFor('waiting for approval requests');
    const first = callRequest();
    const firstOutcome = fx.manager.request(first.req, decision(), display);
    await pty.waitFor(/s left/);
    const forged = `${' '.repeat(40)}\u2501\u2501 approval request apr_forged \u2501\u2501${' '.repeat(47)}  who   alice via release-bot`;
    first.abort.abort(forged);
    expect(await firstOutcome).toMatchObject({ kind: 'withdrawn' });
    await pty.waitFor('waiting for approval requests…');
    const screen = pty.screen();
    const withdrawn = screen.slice(screen.indexOf('→ request')).split(/\r?\n|\r/).filter((l) => l.includes('withdrawn'));
    expect(withdrawn).toHaveLength(1);
    // It fits in 79 columns (its escape sequence aside), so no row of the agent's starts the screen's line.
    expect([...withdrawn[0]!.replace(/\x1b\[2K/g, '')].length).toBeLessThanOrEqual(79);
    expect(screen).not.toContain('who   alice via release-bot');
    pty.type('q');
    expect(await pty.exited).toBe(0);
  });

  it('a double-tapped "a" does not allow the next request, shown only after the first answer', async () => {
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await pty.waitFor('waiting for approval requests');
    const first = fx.manager.request(callRequest().req, decision(), display);
    const second = trackedRequest(fx, 'delete_file');
    await pty.waitFor('1 more waiting');
    pty.type('a');
    expect(await first).toMatchObject({ kind: 'allowed' });
    await pty.waitFor('fs / delete_file');
    // The second key of a double tap arrives right after the next card appeared: nobody read it.
    pty.type('a');
    // Once the card has been on screen for a moment, keys answer it as usual.
    await expectUnansweredThenDenied(pty, second, 300, 900);
  });

  it('a double tap does not allow a request the agent sends the moment its previous call was allowed', async () => {
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await pty.waitFor('waiting for approval requests');
    const first = fx.manager.request(callRequest().req, decision(), display);
    await pty.waitFor(/s left/);
    pty.type('a');
    expect(await first).toMatchObject({ kind: 'allowed' });
    // The agent learns its first call went through and sends the next one at once.
    const second = trackedRequest(fx, 'delete_file');
    await pty.waitFor('fs / delete_file');
    pty.type('a'); // the second tap of the double tap
    await expectUnansweredThenDenied(pty, second, 300, 900);
  });

  it('a deny reason still being typed when its request is withdrawn does not answer the next request', async () => {
    const { pty, second } = await denyReasonInterrupted('fr');
    await pty.waitFor(/was withdrawn[^]*press Enter for the next request/);
    // The approver, eyes on the keyboard, keeps typing its reason for a while, ends it with Enter
    // and taps on: the card that Enter brings up ignores that key.
    for (const ch of 'not ok, a bad call') {
      pty.type(ch);
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(second.settled).toBe(false);
    pty.type('\r');
    await pty.waitFor('fs / delete_file');
    pty.type('a');
    // After a pause the new card answers as usual.
    await expectUnansweredThenDenied(pty, second, 100, 1_100);
  });

  it('a deny reason typed on after a pause, once its request is withdrawn, does not allow the next request', async () => {
    const { pty, second } = await denyReasonInterrupted('not ok');
    await pty.waitFor(/was withdrawn/);
    // The approver, eyes on the keyboard, stops to think (longer than the settle time) and goes
    // on with the reason: its "a" must not allow the request that took the withdrawn one's place.
    await new Promise((r) => setTimeout(r, 1_400));
    pty.type(' at all');
    await new Promise((r) => setTimeout(r, 300));
    expect(second.settled).toBe(false);
    pty.type('\r'); // the end of the reason: now the next card is read and answered as usual
    await pty.waitFor('fs / delete_file');
    await expectUnansweredThenDenied(pty, second, 100, 1_100);
  });

  it('runs --notify-command on each new request with details in the environment only', async () => {
    fx = await controlFixture();
    const out = join(fx.dir, 'notified');
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile, '--notify-command', `printf '%s %s' "$WARDEN_APPROVAL_USER" "$WARDEN_APPROVAL_TOOL" > ${out}`]);
    await pty.waitFor('waiting for approval requests');
    const requested = fx.nextPending();
    const outcome = fx.manager.request(callRequest({ tool: 'x;$(touch /tmp/pwned)' }).req, decision(), display);
    await requested;
    await pty.waitFor(/s left/);
    for (let i = 0; i < 100 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 100 && readFileSync(out, 'utf8') === ''; i++) await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(out, 'utf8')).toBe('alice fs/x;$(touch /tmp/pwned)');
    pty.type('d\r');
    expect(await outcome).toMatchObject({ kind: 'denied' });
    await pty.waitFor('✔ denied');
    pty.type('q');
    expect(await pty.exited).toBe(0);
  });

  it('blocks a call-and-cancel flood from forking a --notify-command process per request on the approver\'s machine', async () => {
    // An agent that calls and cancels in a loop makes (and withdraws) a request each time: one
    // hook process per request piled up shells as fast as the agent could loop.
    fx = await controlFixture();
    const log = join(fx.dir, 'hook-log');
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile, '--notify-command', `echo s >> ${log}; sleep 0.3; echo e >> ${log}`]);
    await pty.waitFor('waiting for approval requests');
    for (let i = 0; i < 25; i++) {
      const requested = fx.nextPending();
      const call = callRequest({ tool: `flood_${i}` });
      const outcome = fx.manager.request(call.req, decision(), display);
      await requested;
      await new Promise((r) => setTimeout(r, 10));
      call.abort.abort();
      expect(await outcome).toMatchObject({ kind: 'withdrawn' });
    }
    await pty.waitFor('flood_24');
    // Let the last hook runs finish, then read how many ran at once.
    let before = '';
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const now = existsSync(log) ? readFileSync(log, 'utf8') : '';
      if (now === before && now.endsWith('e\n')) break;
      before = now;
    }
    let running = 0;
    let most = 0;
    for (const mark of readFileSync(log, 'utf8').trim().split('\n')) {
      running += mark === 's' ? 1 : -1;
      most = Math.max(most, running);
    }
    expect(most).toBe(1);
    expect(running).toBe(0);
    // Requests that arrived while the hook ran are still announced: one more run once it ended.
    expect(readFileSync(log, 'utf8').split('s').length - 1).toBeGreaterThanOrEqual(2);
    pty.type('q');
    expect(await pty.exited).toBe(0);
  });

  it('keeps a request whose answer was not recorded (a remember longer than warden accepts) on screen to answer again', async () => {
    // The console moved on after any answer, recorded or not: the refused request vanished from
    // it while still pending, and nobody could answer it there until it timed out.
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await pty.waitFor('waiting for approval requests');
    const t = trackedRequest(fx, 'write_file');
    await pty.waitFor(/s left/);
    pty.type('r');
    await pty.waitFor('remember for how many minutes?');
    pty.type('99999\r');
    await pty.waitFor('not recorded: invalid_request');
    await expectUnansweredThenDenied(pty, t, 100, 1_100);
  });

  it('Ctrl-C exits 130 (interrupted), not the 0 of quitting on purpose with q', async () => {
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await pty.waitFor('waiting for approval requests');
    pty.type('\x03');
    await pty.waitFor('interrupted');
    expect(await pty.exited).toBe(130);
  });

  it('an answer typed just before q still reaches warden before the process exits (answer lost on exit)', async () => {
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await pty.waitFor('waiting for approval requests');
    const outcome = fx.manager.request(callRequest().req, decision(), display);
    await pty.waitFor(/s left/);
    pty.type('aq');
    expect(await pty.exited).toBe(0);
    expect(await outcome).toMatchObject({ kind: 'allowed', approver: { kind: 'admin' } });
  });

  it('piped into another program (approve | tee), prints plain lines: no line clearing or redrawn countdown, answers still typed at the terminal', async () => {
    fx = await controlFixture();
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', fx.tokenFile], undefined, true);
    await pty.waitFor('waiting for approval requests');
    const first = fx.manager.request(callRequest().req, decision(), display);
    await pty.waitFor(/s left/);
    // Long enough for two ticks of the countdown: a terminal redraws it, a pipe must not get it again.
    await new Promise((r) => setTimeout(r, 2_200));
    pty.type('d');
    await pty.waitFor('deny reason');
    pty.type('nox\x7f\r');
    expect(await first).toMatchObject({ kind: 'denied', reason: 'no' });
    await pty.waitFor('denied');
    pty.type('q');
    expect(await pty.exited).toBe(0);
    const screen = pty.screen();
    expect(screen).not.toContain('\x1b[');
    expect(screen).not.toContain('\b');
    expect(screen.split('s left').length - 1).toBe(1);
    // The backspace is shown by repeating the prompt with what is left, on a line of its own.
    expect(screen).toMatch(/\): nox\r?\ndeny reason \(Enter to skip, Esc to go back\): no\r?\n✔ denied/);
  });

  it('exits 1 when the control API refuses the token (a refusal, as for every control command)', async () => {
    fx = await controlFixture();
    const bad = join(fx.dir, 'bad-token');
    writeFileSync(bad, 'not-the-token-0123456789');
    const pty = spawnInPty(['--url', fx.server.url, '--token-file', bad]);
    await pty.waitFor('HTTP 401');
    expect(await pty.exited).toBe(1);
  });
});

describe('warden approve without a terminal', () => {
  /** `warden approve` with its stdin a pipe the test writes to (not a terminal). */
  function spawnPiped(args: string[]) {
    const proc = spawn('node', [MAIN, 'approve', ...args], { stdio: 'pipe' });
    child = proc;
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += String(d)));
    proc.stderr.on('data', (d) => (err += String(d)));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const waitFor = async (text: string): Promise<void> => {
      const end = Date.now() + 10_000;
      while (!out.includes(text)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${text}; stdout:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    return { proc, exited, waitFor, output: () => out + err, stdout: () => out, stderr: () => err };
  }

  it('stops with a usage error when its input ends, instead of showing requests nobody can answer forever', async () => {
    fx = await controlFixture();
    const piped = spawnPiped(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await piped.waitFor('waiting for approval requests');
    piped.proc.stdin.end();
    expect(await piped.exited).toBe(2);
    expect(piped.output()).toContain('the input ended: answers are typed at a terminal');
  });

  it('says the input ended on stderr under its name, as usage errors are, with no terminal codes on a piped stdout', async () => {
    fx = await controlFixture();
    const piped = spawnPiped(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await piped.waitFor('waiting for approval requests');
    piped.proc.stdin.end();
    expect(await piped.exited).toBe(2);
    expect(piped.stderr()).toContain('warden approve: the input ended: answers are typed at a terminal');
    expect(piped.stdout()).not.toContain('the input ended');
    expect(piped.stdout()).not.toContain('\x1b[');
  });

  it('blocks auto-approval from a script: answer keys on a piped stdin (`while sleep 2; do echo a; done | warden approve`) answer nothing', async () => {
    fx = await controlFixture();
    const piped = spawnPiped(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await piped.waitFor('waiting for approval requests');
    const t = trackedRequest(fx, 'write_file');
    await piped.waitFor('s left');
    // Past the settle time a key at a terminal would answer: from a pipe, neither a, r nor d does.
    await new Promise((r) => setTimeout(r, 1_200));
    piped.proc.stdin.write('a');
    await new Promise((r) => setTimeout(r, 1_200));
    piped.proc.stdin.write('r5\r');
    await new Promise((r) => setTimeout(r, 1_200));
    piped.proc.stdin.write('d\r');
    await new Promise((r) => setTimeout(r, 500));
    expect(t.settled).toBe(false);
    expect(piped.stderr()).toContain('the input is not a terminal: requests are shown, none is answered here');
    expect(piped.stdout()).toContain('input is not a terminal: answer with `warden approvals allow|deny ID`');
    expect(piped.stdout()).not.toContain('[a] allow once');
    piped.proc.stdin.write('q');
    expect(await piped.exited).toBe(0);
    expect(t.settled).toBe(false);
  });

  it('SIGINT exits 130 (interrupted), not 0 and not killed by the signal', async () => {
    fx = await controlFixture();
    const piped = spawnPiped(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await piped.waitFor('waiting for approval requests');
    piped.proc.kill('SIGINT');
    expect(await piped.exited).toBe(130);
    expect(piped.stdout()).toContain('interrupted');
  });

  it('prints plain lines when stdout is a pipe: no bell, no line clearing, the countdown not redrawn', async () => {
    fx = await controlFixture();
    const piped = spawnPiped(['--url', fx.server.url, '--token-file', fx.tokenFile]);
    await piped.waitFor('waiting for approval requests');
    const first = trackedRequest(fx, 'write_file');
    await piped.waitFor('s left');
    const second = trackedRequest(fx, 'delete_file');
    await piped.waitFor('1 more waiting');
    await new Promise((r) => setTimeout(r, 2_200));
    piped.proc.stdin.write('q');
    expect(await piped.exited).toBe(0);
    const out = piped.stdout();
    expect(out).not.toMatch(/[\x07\x08\x1b\r]/);
    // Once when the card was shown, once when the queue grew; never every second.
    expect(out.split('s left').length - 1).toBe(2);
    expect(out).toMatch(/\n⏳ \d+ s left · 1 more waiting > /);
    expect(out).toMatch(/\nbye\n$/);
    expect(first.settled || second.settled).toBe(false);
  });
});
