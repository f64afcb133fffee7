import type { WardenConfig } from '../config/config-schema.js';
import { ConfigError } from '../core/errors.js';
import { untrustedFileReason } from '../core/trusted-file.js';

/** A file whose writer decides who is who or what is allowed, with its config key. */
export interface TrustedInput {
  readonly file: string;
  readonly keyPath: string;
  readonly what: string;
}

/**
 * The credentials and state files of a config that another local user must not be able to
 * rewrite: a key file they could swap in lets them mint any identity or security event, an
 * approver token they set approves any call. (Policy, pin and config files are checked where
 * they are read, reloads included; the revocations file, stricter, by its loader.)
 */
export function trustedInputs(config: WardenConfig): TrustedInput[] {
  const out: TrustedInput[] = [];
  const add = (file: string | undefined | null, keyPath: string, what: string): void => {
    if (typeof file === 'string') out.push({ file, keyPath, what });
  };
  config.identity?.issuers.forEach((iss, i) => {
    add(iss.jwksFile, `identity.issuers[${i}].jwksFile`, 'issuer key file');
    iss.publicKeys?.forEach((k, j) => add(k.pemFile, `identity.issuers[${i}].publicKeys[${j}].pemFile`, 'issuer key file'));
    add(iss.dangerouslyAllowSharedSecret?.file, `identity.issuers[${i}].dangerouslyAllowSharedSecret.file`, 'issuer shared secret file');
  });
  const token = config.identity?.token;
  if (token && 'file' in token) add(token.file, 'identity.token.file', 'stdio token file');
  const keys = config.events?.transmitter?.keys;
  if (keys && 'jwksFile' in keys) add(keys.jwksFile, 'events.transmitter.keys.jwksFile', 'security event key file');
  if (keys && 'publicKeyPemFile' in keys) add(keys.publicKeyPemFile, 'events.transmitter.keys.publicKeyPemFile', 'security event key file');
  const auth = config.events?.authorization;
  if (auth && 'tokenFile' in auth) add(auth.tokenFile, 'events.authorization.tokenFile', 'security event push token file');
  config.approvals.approvers.forEach((a, i) => add(a.tokenFile, `approvals.approvers[${i}].tokenFile`, 'approver token file'));
  add(config.control.adminTokenFile, 'control.adminTokenFile', 'admin token file');
  return out;
}

/** Throws a ConfigError (config file and key) for the first trusted input another user could rewrite. */
export function checkTrustedInputs(config: WardenConfig, configFile: string): void {
  for (const input of trustedInputs(config)) {
    const reason = untrustedFileReason(input.file);
    if (reason !== undefined) throw new ConfigError(`refusing to trust the ${input.what}: ${reason}`, { file: configFile, keyPath: input.keyPath });
  }
}
