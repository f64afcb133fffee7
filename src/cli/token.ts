import { existsSync, lstatSync, readFileSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { EXIT, type CliCommand, type CliIo } from './cli-command.js';
import { didYouMean, withOptionHint } from './did-you-mean.js';
import { terminalMessage } from './terminal-message.js';
import { parseDurationSeconds } from '../identity/duration.js';
import { KeyAlgorithmMismatchError } from '../identity/key-algorithm-fit.js';
import { makeDirectories } from '../core/make-directories.js';
import {
  SIGNING_ALGORITHMS, generateSigningKey, loadSigningKey, mintToken, privateKeyToPem, type SigningAlgorithm,
} from '../identity/dev-tokens.js';

const HELP = `Usage: warden token <keygen|mint> [options]

Development tooling for signed tokens (the demo and tests use the same library functions).

warden token keygen [--alg ES256|EdDSA|RS256] [--out DIR] [--kid ID] [--format jwk|pem] [--force] [--json]
  Writes a private key (<kid>.private.jwk or <kid>.private.pem, mode 0600) and adds the public
  key to DIR/jwks.json (created if missing; existing keys are kept, for rotation). A kid that
  already has a key there is refused (exit 1) unless --force replaces it.
  Defaults: --alg ES256, --out ., --kid = RFC 7638 thumbprint, --format jwk.

warden token mint --key FILE --iss URL --aud AUD --sub USER [--act AGENT] [--act-iss URL]
                  [--act-chain a,b] [--scope "s1 s2"] [--ttl 15m] [--claim k=v ...] [--sid S]
                  [--typ T] [--alg ALG] [--kid ID]
  Prints a signed JWT. --act-chain lists prior actors, most recent first (nested act).
  --act-iss sets the acting agent's own issuer (act.iss): warden tells agents apart by it.
  --claim values are parsed as JSON when possible (numbers, arrays), else kept as strings.
  A PEM key needs --alg; a JWK key carries its own alg and kid.

  An --alg that does not fit the key (ES384 for a P-256 key, RS256 for an EC key) is a usage
  error naming the key file and the algorithms that do fit.

Exit codes: 0 ok, 1 keygen refused to replace a kid's key (no --force), 2 usage (also: --alg
does not fit the key), 3 key file or jwks.json unreadable or invalid (also: a JWK whose own
"alg" does not fit its key), 4 cannot write the key files.
`;

function fail(io: CliIo, message: string, code: number = EXIT.usage): number {
  io.stderr.write(`warden token: ${message}\n`);
  return code;
}

async function keygen(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      alg: { type: 'string', default: 'ES256' },
      out: { type: 'string', default: '.' },
      kid: { type: 'string' },
      format: { type: 'string', default: 'jwk' },
      json: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return io.stdout.write(HELP), EXIT.ok;
  if (!(SIGNING_ALGORITHMS as readonly string[]).includes(values.alg)) return fail(io, `--alg must be one of ${SIGNING_ALGORITHMS.join(', ')}`);
  if (values.format !== 'jwk' && values.format !== 'pem') return fail(io, '--format must be jwk or pem');
  // The kid becomes a file name: keep it to a safe alphabet (no path separators).
  if (values.kid !== undefined && !/^[A-Za-z0-9._-]{1,128}$/.test(values.kid)) return fail(io, '--kid may use only A-Z a-z 0-9 . _ -');
  const dir = resolve(io.cwd, values.out);
  const jwksPath = join(dir, 'jwks.json');
  // Read before anything is written: a broken jwks.json must not leave a new private key behind.
  const existing = readExistingKeys(jwksPath);
  if (typeof existing === 'string') return fail(io, `${jwksPath}: ${existing}`, EXIT.config);
  const key = await generateSigningKey({ alg: values.alg as SigningAlgorithm, ...(values.kid ? { kid: values.kid } : {}) });
  try {
    // Not mkdirSync({ recursive: true }): under /proc it spins forever (make-directories.ts).
    makeDirectories(dir);
  } catch (err) {
    return fail(io, terminalMessage(`--out ${dir}: cannot create the folder: ${(err as Error).message}`), EXIT.unavailable);
  }
  const privatePath = join(dir, `${key.kid}.private.${values.format}`);
  // A key already published under this kid signs tokens someone may rely on: replacing it (and
  // its public half in jwks.json) silently would break them, so only on request.
  const taken = lstatOrUndefined(privatePath) !== undefined || existing.some((k) => k.kid === key.kid);
  if (taken && !values.force) return fail(io, `kid ${key.kid} already has a key in ${dir}; pass --force to replace it`, EXIT.failure);
  const privateText = values.format === 'pem' ? await privateKeyToPem(key) : `${JSON.stringify(key.privateJwk, null, 2)}\n`;
  // Removed first and created exclusively with mode 0600: never written through a link planted
  // at the path, never a window where an older, wider mode applies.
  rmSync(privatePath, { force: true });
  writeFileSync(privatePath, privateText, { mode: 0o600, flag: 'wx' });
  const keys = [...existing.filter((k) => k.kid !== key.kid), key.publicJwk];
  writeFileSync(jwksPath, `${JSON.stringify({ keys }, null, 2)}\n`);
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ kid: key.kid, alg: key.alg, privateKey: privatePath, jwks: jwksPath })}\n`);
  } else {
    io.stdout.write(`kid:         ${key.kid}\nalg:         ${key.alg}\nprivate key: ${privatePath} (mode 0600; keep it secret)\njwks:        ${jwksPath} (${keys.length} key${keys.length === 1 ? '' : 's'})\n`);
  }
  return EXIT.ok;
}

/** The keys of an existing jwks.json (none when there is no file), or why it cannot be used. */
function readExistingKeys(jwksPath: string): JWK[] | string {
  if (!existsSync(jwksPath)) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(jwksPath, 'utf8'));
  } catch (err) {
    return `cannot add the new key: ${(err as Error).message}`;
  }
  const keys = (doc as { keys?: unknown } | null)?.keys ?? [];
  return Array.isArray(keys) ? (keys as JWK[]) : 'cannot add the new key: "keys" is not a list';
}

function parseClaims(pairs: string[]): Record<string, unknown> | string {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return `--claim expects k=v, got '${pair}'`;
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: keep the text as a string claim.
    }
    out[pair.slice(0, eq)] = value;
  }
  return out;
}

async function mint(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      key: { type: 'string' }, iss: { type: 'string' }, aud: { type: 'string', multiple: true }, sub: { type: 'string' },
      act: { type: 'string' }, 'act-iss': { type: 'string' }, 'act-chain': { type: 'string' }, scope: { type: 'string' }, ttl: { type: 'string', default: '15m' },
      claim: { type: 'string', multiple: true, default: [] }, sid: { type: 'string' }, typ: { type: 'string' },
      alg: { type: 'string' }, kid: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return io.stdout.write(HELP), EXIT.ok;
  for (const name of ['key', 'iss', 'aud', 'sub'] as const) if (values[name] === undefined) return fail(io, `mint needs --${name}`);
  const ttl = parseDurationSeconds(values.ttl);
  if (ttl === undefined || ttl <= 0) return fail(io, `--ttl: invalid duration '${values.ttl}' (e.g. 30s, 15m, 1h)`);
  const extra = parseClaims(values.claim);
  if (typeof extra === 'string') return fail(io, extra);
  if (values['act-chain'] !== undefined && values.act === undefined) return fail(io, '--act-chain needs --act');
  if (values['act-iss'] !== undefined && values.act === undefined) return fail(io, '--act-iss needs --act');
  if (values['act-iss'] === '') return fail(io, '--act-iss must not be empty (warden refuses an empty act.iss)');
  const keyPath = resolve(io.cwd, values.key as string);
  let key;
  try {
    key = await loadSigningKey(readFileSync(keyPath, 'utf8'), { ...(values.alg ? { alg: values.alg } : {}), ...(values.kid ? { kid: values.kid } : {}) });
  } catch (err) {
    // --alg that does not fit the key is the command line's fault (2); a JWK whose own "alg" does
    // not fit its key is the file's (3), like any other unusable key file.
    const usage = err instanceof KeyAlgorithmMismatchError && err.source === 'option';
    return fail(io, terminalMessage(`${keyPath}: ${(err as Error).message}`), usage ? EXIT.usage : EXIT.config);
  }
  const aud = values.aud as string[];
  const token = await mintToken({
    key, issuer: values.iss as string, audience: aud.length === 1 ? (aud[0] as string) : aud, subject: values.sub as string,
    ttlSeconds: Math.round(ttl), claims: extra,
    ...(values.act !== undefined ? { actor: values.act } : {}),
    ...(values['act-iss'] !== undefined ? { actorIssuer: values['act-iss'] } : {}),
    ...(values['act-chain'] !== undefined ? { actorChain: values['act-chain'].split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(values.scope !== undefined ? { scope: values.scope } : {}),
    ...(values.sid !== undefined ? { sessionId: values.sid } : {}),
    ...(values.typ !== undefined ? { typ: values.typ } : {}),
  });
  io.stdout.write(`${token}\n`);
  return EXIT.ok;
}

/** `warden token keygen|mint`: development keys and signed tokens. */
export const tokenCommand: CliCommand = {
  name: 'token',
  summary: 'Generate signing keys and mint signed tokens (development)',
  async run(argv, io) {
    const [sub, ...rest] = argv;
    try {
      if (sub === 'keygen') return await keygen(rest, io);
      if (sub === 'mint') return await mint(rest, io);
    } catch (err) {
      // parseArgs throws on unknown or malformed options: a usage error, not a crash. Anything
      // else (a folder that cannot be created, a full disk) is a runtime failure, not the
      // operator's command line.
      const parse = (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
      const message = terminalMessage(parse ? withOptionHint((err as Error).message, HELP) : (err as Error).message);
      return fail(io, message, parse ? EXIT.usage : EXIT.unavailable);
    }
    if (sub === '--help' || sub === '-h' || sub === 'help') return io.stdout.write(HELP), EXIT.ok;
    const why = sub === undefined ? 'missing subcommand' : `unknown subcommand '${terminalMessage(sub)}'${didYouMean(sub, ['keygen', 'mint'])}`;
    io.stderr.write(`warden token: ${why}\n\n${HELP}`);
    return EXIT.usage;
  },
};

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
