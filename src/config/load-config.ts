import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { configErrorFromZod } from './zod-error.js';
import { WardenConfigSchema, type WardenConfig } from './config-schema.js';
import { interpolateRecord } from './env-interpolation.js';

/** Reads a YAML or JSON file into plain data. Errors name the file. */
export function readConfigDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file }, { cause: err });
  }
  try {
    // JSON is valid YAML 1.2, but JSON.parse gives sharper messages for .json files.
    if (file.endsWith('.json')) return JSON.parse(text) as unknown;
    return parseYaml(text, { uniqueKeys: true, prettyErrors: true }) as unknown;
  } catch (err) {
    throw new ConfigError(`not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { file }, { cause: err });
  }
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
  const result = schema.safeParse(document ?? {});
  if (!result.success) throw configErrorFromZod(result.error, file);
  return result.data;
}

/** Resolves `${VAR}` references in upstream headers and env. Missing variables name the key. */
export function resolveWardenEnv(config: WardenConfig, file: string, env: Readonly<Record<string, string | undefined>>): WardenConfig {
  const upstreams: WardenConfig['upstreams'] = {};
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    if ('command' in upstream) {
      upstreams[name] = { ...upstream, env: interpolateRecord(upstream.env, env, file, `upstreams.${name}.env`) };
    } else {
      upstreams[name] = { ...upstream, headers: interpolateRecord(upstream.headers, env, file, `upstreams.${name}.headers`) };
    }
  }
  return { ...config, upstreams };
}

/** Loads and validates `warden.yaml` (or `.json`), resolving environment references. */
export function loadWardenConfig(file: string, env: Readonly<Record<string, string | undefined>> = process.env): WardenConfig {
  return resolveWardenEnv(loadConfigFile(file, WardenConfigSchema), file, env);
}
