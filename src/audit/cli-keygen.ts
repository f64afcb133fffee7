import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT, type CliIo } from '../cli/cli-command.js';
import { keyFingerprint } from './checkpoint.js';

export const KEYGEN_HELP = `Usage: warden audit keygen [--out PREFIX] [--force] [--json]

Writes an Ed25519 key pair for signing audit checkpoints:
PREFIX.key (private, PKCS#8 PEM, mode 0600) and PREFIX.pub (public, SPKI PEM).
Default PREFIX: ./warden-audit-signing. Existing files are not overwritten without --force.
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
  const existing = [`${prefix}.key`, `${prefix}.pub`].filter((f) => existsSync(f));
  if (!values.force && existing.length > 0) {
    io.stderr.write(`warden audit keygen: ${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}; not overwritten (a checkpoint signed with the old key would no longer verify). Use --out for another name, or --force to replace\n`);
    return EXIT.failure;
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const flag = values.force ? 'w' : 'wx';
  try {
    writeFileSync(`${prefix}.key`, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag });
    writeFileSync(`${prefix}.pub`, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag });
  } catch (err) {
    io.stderr.write(`warden audit keygen: ${(err as Error).message}\n`);
    return EXIT.unavailable;
  }
  const out = { privateKey: `${prefix}.key`, publicKey: `${prefix}.pub`, keyId: keyFingerprint(publicKey) };
  io.stdout.write(values.json ? `${JSON.stringify(out)}\n` : `wrote ${out.privateKey} (0600) and ${out.publicKey}; key id ${out.keyId}\n`);
  return EXIT.ok;
}
