import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { assertTrustedFile } from '../core/trusted-file.js';
import { configErrorFromZod } from './zod-error.js';
import { WardenConfigSchema, type WardenConfig } from './config-schema.js';
import { interpolateRecord } from './env-interpolation.js';
import { findDuplicateJsonKey } from './json-duplicate-keys.js';
import { resolveConfigPathsOf } from './config-paths.js';

/** Reads a YAML or JSON file into plain data. Errors name the file. */
export function readConfigDocument(file: string): unknown {
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file }, { cause: err });
  }
  try {
    // JSON is valid YAML 1.2, but JSON.parse gives sharper messages for .json files.
    if (file.endsWith('.json')) return parseJson(text);
    return parseYaml(text, { uniqueKeys: true, prettyErrors: true }) as unknown;
  } catch (err) {
    throw new ConfigError(syntaxErrorMessage(file, err as Error), { file }, { cause: err });
  }
}

/**
 * Reads a config file that must be a regular file. A FIFO would block start-up until some writer
 * appears, a device like /dev/zero would be read until memory runs out: opened non-blocking and
 * checked with fstat (the same file that is then read), they are refused instead.
 */
function readRegularFile(file: string): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new ConfigError('cannot read config file: not a regular file', { file });
    // A UTF-8 byte order mark (some Windows editors write one) is not part of the document.
    const text = readFileSync(fd, 'utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } finally {
    closeSync(fd);
  }
}

/**
 * JSON.parse, but a key given twice in one object is an error (as in a YAML config): JSON.parse
 * would keep the last one silently.
 */
function parseJson(text: string): unknown {
  const document = JSON.parse(text) as unknown;
  const duplicate = findDuplicateJsonKey(text);
  if (duplicate !== undefined) throw new Error(`duplicate key ${duplicate}`);
  return document;
}

/**
 * `not valid YAML (line 3, column 1): <what>` followed by the code frame, instead of the yaml
 * package's "<what> at line 3, column 1:" whose trailing colon reads as a cut-off message when
 * only the first line is shown (a log line, a desktop client's error box).
 */
function syntaxErrorMessage(file: string, err: Error): string {
  const kind = file.endsWith('.json') ? 'JSON' : 'YAML';
  const [first = '', ...frame] = err.message.split('\n');
  const at = /^(.*) at line (\d+), column (\d+):$/.exec(first);
  if (!at) return `not valid ${kind}: ${first}${frame.length ? `\n${frame.join('\n').trimEnd()}` : ''}`;
  const context = frame.join('\n').replace(/^\n+/, '').trimEnd();
  return `not valid ${kind} (line ${at[2]}, column ${at[3]}): ${at[1]}${context ? `\n${context}` : ''}`;
}

/**
 * Generic loader: read a YAML/JSON file and validate it strictly against any zod schema.
 * Every error names the file and the key path.
 */
export function loadConfigFile<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  const document = readConfigDocument(file);
  return parseConfigDocument(document, file, schema);
}

/** Validates already-read data; `file` is used in error messages. */
export function parseConfigDocument<S extends z.ZodType>(document: unknown, file: string, schema: S): z.infer<S> {
  const input = document ?? {};
  const result = schema.safeParse(input);
  if (!result.success) throw configErrorFromZod(result.error, file, { schema, input });
  return result.data;
}

/** Resolves `${VAR}` references in upstream headers and env. Missing variables name the key. */
export function resolveWardenEnv(config: WardenConfig, file: string, env: Readonly<Record<string, string | undefined>>): WardenConfig {
  const upstreams: WardenConfig['upstreams'] = {};
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    if ('command' in upstream) {
      const childEnv = interpolateRecord(upstream.env, env, file, `upstreams.${name}.env`);
      checkValues(childEnv, upstream.env, file, `upstreams.${name}.env`, NUL, 'a NUL character, which an environment variable cannot carry');
      upstreams[name] = { ...upstream, env: childEnv };
    } else {
      const headers = interpolateRecord(upstream.headers, env, file, `upstreams.${name}.headers`);
      checkHeaderNames(headers, file, `upstreams.${name}.headers`);
      checkValues(headers, upstream.headers, file, `upstreams.${name}.headers`, BAD_HEADER_VALUE, 'a line break, a NUL or a character beyond U+00FF, which an HTTP header cannot carry');
      upstreams[name] = { ...upstream, headers };
    }
  }
  return { ...config, upstreams };
}

/**
 * Characters an HTTP header value cannot carry: fetch refuses them, and beyond U+00FF (a typographic
 * quote pasted into a token) it refuses the whole request. Refused only then, every session's
 * upstream failed to start, long after start-up said the config was fine.
 */
const BAD_HEADER_VALUE = /[\r\n\0]|[^\u0000-\u00ff]/;
/** An HTTP header name (RFC 9110 token), the only names fetch sends. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Connection and framing headers fetch sets itself: it refuses a request carrying Transfer-Encoding,
 * Keep-Alive, Upgrade or Expect, one whose Content-Length does not match its body (every JSON-RPC
 * POST's differs), and a Connection other than close / keep-alive. Accepted here, every session's
 * upstream failed to start, long after start-up said the config was fine.
 */
const FETCH_MANAGED = new Set(['connection', 'content-length', 'expect', 'keep-alive', 'transfer-encoding', 'upgrade']);

/**
 * MCP's own headers: the SDK's client transport lets configured headers override the session id
 * and protocol version it negotiated, so every request would go out under a fixed (wrong) session.
 */
const PROTOCOL_MANAGED = new Set(['mcp-session-id', 'mcp-protocol-version']);

/** A header name fetch would refuse (`X Api Key`, `Transfer-Encoding`) fails start-up naming it, as a bad value does. */
function checkHeaderNames(headers: Readonly<Record<string, string>> | undefined, file: string, prefix: string): void {
  for (const key of Object.keys(headers ?? {})) {
    if (!HEADER_NAME.test(key)) throw new ConfigError('is not a valid HTTP header name (letters, digits and !#$%&\'*+-.^_`|~ only)', { file, keyPath: `${prefix}.${key}` });
    if (FETCH_MANAGED.has(key.toLowerCase())) throw new ConfigError('is a connection or framing header, which warden\'s HTTP client sets itself (and refuses from configuration)', { file, keyPath: `${prefix}.${key}` });
    if (PROTOCOL_MANAGED.has(key.toLowerCase())) throw new ConfigError('is an MCP protocol header, which warden sets per upstream session', { file, keyPath: `${prefix}.${key}` });
  }
}
/** What an environment variable of a child process cannot carry (spawn refuses it). */
const NUL = /\0/;

/**
 * A header or child-environment value the HTTP client or spawn would refuse is refused here, at
 * start-up, naming the key and the variables it uses but never the value: refused later, when a
 * session starts, the error quotes the whole value (a bearer token from `${VAR}`) into the log.
 */
function checkValues(
  resolved: Readonly<Record<string, string>> | undefined,
  written: Readonly<Record<string, string>> | undefined,
  file: string,
  prefix: string,
  bad: RegExp,
  what: string,
): void {
  for (const [key, value] of Object.entries(resolved ?? {})) {
    if (!bad.test(value)) continue;
    const vars = [...(written?.[key] ?? '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
    const from = vars.length > 0 ? ` (after substituting ${vars.map((v) => `\${${v}}`).join(', ')})` : '';
    throw new ConfigError(`the value${from} contains ${what}`, { file, keyPath: `${prefix}.${key}` });
  }
}

/**
 * Loads and validates `warden.yaml` (or `.json`), resolving environment references and making
 * every path-valued key absolute against the config file's folder (see config-paths.ts).
 */
export function loadWardenConfig(file: string, env: Readonly<Record<string, string | undefined>> = process.env): WardenConfig {
  // Whoever can rewrite the config names the policy, the identity settings and the upstreams.
  assertTrustedFile(file, 'config file');
  return resolveConfigPathsOf(resolveWardenEnv(loadConfigFile(file, WardenConfigSchema), file, env), file);
}
