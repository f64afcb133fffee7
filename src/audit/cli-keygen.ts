import { generateKeyPairSync } from 'node:crypto';
import { lstatSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT, type CliIo } from '../cli/cli-command.js';
import { terminalMessage } from '../cli/terminal-message.js';
import { makeDirectories } from '../core/make-directories.js';
import { keyFingerprint } from './checkpoint.js';

export const KEYGEN_HELP = `Usage: warden audit keygen [--out PREFIX] [--force] [--json]

Writes an Ed25519 key pair for signing audit checkpoints:
PREFIX.key (private, PKCS#8 PEM, mode 0600) and PREFIX.pub (public, SPKI PEM).
Default PREFIX: ./warden-audit-signing (missing folders are created). Existing files are not
overwritten without --force, which removes them and writes the new pair afresh.
Configure audit.checkpoint.signingKey: PREFIX.key; verify with --public-key PREFIX.pub.
Exit codes: 0 written, 1 key files exist (no --force), 2 usage, 4 cannot write them.
`;

/** `warden audit keygen`. */
export async function runKeygen(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(KEYGEN_HELP);
    return EXIT.ok;
  }
  const prefix = resolve(io.cwd, values.out ?? 'warden-audit-signing');
  // Checked for both files before writing either: a new .key beside an old .pub is a broken pair.
  // lstat: a link at the path (even a dangling one) is something there, not a free name.
  const existing = [`${prefix}.key`, `${prefix}.pub`].filter((f) => lstatSync(f, { throwIfNoEntry: false }) !== undefined);
  if (!values.force && existing.length > 0) {
    io.stderr.write(`warden audit keygen: ${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}; not overwritten (a checkpoint signed with the old key would no longer verify). Use --out for another name, or --force to replace\n`);
    return EXIT.failure;
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  try {
    // Not mkdirSync({ recursive: true }): under /proc it spins forever (make-directories.ts).
    makeDirectories(dirname(prefix));
  } catch (err) {
    io.stderr.write(`warden audit keygen: ${terminalMessage(`--out ${prefix}: cannot create the folder: ${(err as Error).message}`)}\n`);
    return EXIT.unavailable;
  }
  try {
    // With --force the old files are removed first and the new ones created exclusively: writing
    // over them kept an old file's wider mode (a private key left 0644 while we print 0600) and
    // followed a link planted at the path, writing the private key wherever it pointed.
    if (values.force) for (const f of [`${prefix}.key`, `${prefix}.pub`]) rmSync(f, { force: true });
    writeFileSync(`${prefix}.key`, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    writeFileSync(`${prefix}.pub`, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag: 'wx' });
  } catch (err) {
    io.stderr.write(`warden audit keygen: ${terminalMessage((err as Error).message)}\n`);
    return EXIT.unavailable;
  }
  const out = { privateKey: `${prefix}.key`, publicKey: `${prefix}.pub`, keyId: keyFingerprint(publicKey) };
  io.stdout.write(values.json ? `${JSON.stringify(out)}\n` : `wrote ${out.privateKey} (0600) and ${out.publicKey}; key id ${out.keyId}\n`);
  return EXIT.ok;
}
