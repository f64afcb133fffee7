import { dirname, isAbsolute, resolve } from 'node:path';
import type { WardenConfig } from './config-schema.js';

/**
 * Every config key that names a file or folder, as a dot path (`[]` = each array item). Listed
 * once so the rule "relative paths resolve against the config file's folder" holds for all of
 * them, whichever area reads the key, and the README can list them.
 */
export const PATH_KEYS: readonly string[] = [
  'upstreams.<name>.cwd',
  'logging.file',
  'identity.issuers[].jwksFile',
  'identity.issuers[].publicKeys[].pemFile',
  'identity.issuers[].dangerouslyAllowSharedSecret.file',
  'identity.token.file',
  'policy.files[]',
  'audit.file',
  'audit.checkpoint.file',
  'audit.checkpoint.signingKey',
  'approvals.approvers[].tokenFile',
  'control.adminTokenFile',
  'control.socketPath',
  'events.transmitter.keys.jwksFile',
  'events.transmitter.keys.publicKeyPemFile',
  'events.authorization.tokenFile',
  'pins.file',
  'state.revocationsFile',
];

/**
 * Returns the config with every path-valued key made absolute against `baseDir` (the config
 * file's folder), so the meaning of a config never depends on the directory warden was started
 * from (a desktop client launches it with a cwd nobody chose). A stdio upstream without `cwd`
 * runs in `baseDir`, so relative `args` (`[dist/server.js]`) and a relative `command` with a slash
 * resolve against the config folder too; `args` themselves are passed to the child as written.
 */
export function resolveConfigPaths(config: WardenConfig, baseDir: string): WardenConfig {
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const opt = (p: string | undefined): string | undefined => (p === undefined ? undefined : at(p));
  const upstreams: WardenConfig['upstreams'] = {};
  for (const [name, u] of Object.entries(config.upstreams)) {
    upstreams[name] = 'command' in u ? { ...u, cwd: at(u.cwd ?? '.') } : u;
  }
  const out: WardenConfig = {
    ...config,
    upstreams,
    logging: withOptional(config.logging, 'file', opt(config.logging.file)),
    policy: { ...config.policy, files: config.policy.files.map(at) },
    audit: {
      ...config.audit,
      file: at(config.audit.file),
      checkpoint: withOptional(withOptional(config.audit.checkpoint, 'file', opt(config.audit.checkpoint.file)), 'signingKey', opt(config.audit.checkpoint.signingKey)),
    },
    approvals: { ...config.approvals, approvers: config.approvals.approvers.map((a) => withOptional(a, 'tokenFile', opt(a.tokenFile))) },
    control: withOptional({ ...config.control, adminTokenFile: at(config.control.adminTokenFile) }, 'socketPath', opt(config.control.socketPath)),
    pins: { ...config.pins, file: at(config.pins.file) },
    state: { ...config.state, revocationsFile: config.state.revocationsFile === null ? null : at(config.state.revocationsFile) },
  };
  if (config.identity) out.identity = resolveIdentityPaths(config.identity, at);
  if (config.events) out.events = resolveEventsPaths(config.events, at);
  return out;
}

/** `resolveConfigPaths` with the folder of `configFile`. */
export function resolveConfigPathsOf(config: WardenConfig, configFile: string): WardenConfig {
  return resolveConfigPaths(config, dirname(resolve(configFile)));
}

type Identity = NonNullable<WardenConfig['identity']>;
type Events = NonNullable<WardenConfig['events']>;

function resolveIdentityPaths(identity: Identity, at: (p: string) => string): Identity {
  const opt = (p: string | undefined): string | undefined => (p === undefined ? undefined : at(p));
  return {
    ...identity,
    issuers: identity.issuers.map((iss) => {
      let next = withOptional(iss, 'jwksFile', opt(iss.jwksFile));
      if (iss.publicKeys) next = { ...next, publicKeys: iss.publicKeys.map((k) => withOptional(k, 'pemFile', opt(k.pemFile))) };
      const secret = iss.dangerouslyAllowSharedSecret;
      if (secret) next = { ...next, dangerouslyAllowSharedSecret: withOptional(secret, 'file', opt(secret.file)) };
      return next;
    }),
    ...(identity.token && 'file' in identity.token ? { token: { file: at(identity.token.file) } } : {}),
  };
}

function resolveEventsPaths(events: Events, at: (p: string) => string): Events {
  const keys = events.transmitter.keys;
  const resolvedKeys = 'jwksFile' in keys ? { jwksFile: at(keys.jwksFile) } : 'publicKeyPemFile' in keys ? { publicKeyPemFile: at(keys.publicKeyPemFile) } : keys;
  const auth = events.authorization;
  return {
    ...events,
    transmitter: { ...events.transmitter, keys: resolvedKeys },
    ...(auth && 'tokenFile' in auth ? { authorization: { tokenFile: at(auth.tokenFile) } } : {}),
  };
}

/** Sets an optional key only when it has a value (exactOptionalPropertyTypes-friendly). */
function withOptional<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): T {
  return value === undefined ? obj : { ...obj, [key]: value };
}
