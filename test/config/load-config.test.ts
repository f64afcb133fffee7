import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { loadWardenConfig } from '../../src/config/load-config.js';
import { writeTempConfig } from '../helpers/warden-process.js';

function loadError(config: unknown, env: Record<string, string> = {}, name = 'warden.yaml'): ConfigError {
  const file = writeTempConfig(config as Record<string, unknown>, name);
  try {
    loadWardenConfig(file, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(file);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

function loadError2(file: string): ConfigError {
  try {
    loadWardenConfig(file, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadWardenConfig', () => {
  it('loads a minimal YAML config with defaults', () => {
    const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { acme: { command: 'node', args: ['x.js'] } } });
    const config = loadWardenConfig(file, {});
    expect(config.listen.stdio).toBe(true);
    expect(config.listen.http).toBeUndefined();
    expect(config.timeouts.callMs).toBe(60_000);
    // The upstream runs in the config folder, so its relative args resolve there.
    expect(config.upstreams.acme).toEqual({ command: 'node', args: ['x.js'], cwd: dirname(file) });
  });

  it('accepts JSON files', () => {
    const file = writeTempConfig({ upstreams: { web: { url: 'http://127.0.0.1:9/mcp' } }, listen: { stdio: false, http: { port: 0 } } }, 'warden.json');
    const config = loadWardenConfig(file, {});
    expect(config.listen.http?.host).toBe('127.0.0.1');
    expect(config.listen.http?.maxBodyBytes).toBe(4 * 1024 * 1024);
  });

  it('names the key path of a typo (strict objects)', () => {
    const err = loadError({ upstreams: { acme: { command: 'node', argz: [] } } });
    expect(err.code).toBe('config_invalid');
    expect(err.keyPath).toBe('upstreams.acme');
    expect(err.message).toContain("'argz'");
  });

  it('rejects an unknown top-level section', () => {
    const err = loadError({ upstreams: { a: { command: 'x' } }, listne: {} });
    expect(err.keyPath).toBe('(root)');
  });

  it('rejects a wrong type with the nested key path', () => {
    const err = loadError({ upstreams: { a: { command: 'x' } }, listen: { http: { port: 'eighty' } } });
    expect(err.keyPath).toBe('listen.http.port');
  });

  it('rejects a config that listens nowhere', () => {
    const err = loadError({ upstreams: { a: { command: 'x' } }, listen: { stdio: false } });
    expect(err.keyPath).toBe('listen');
  });

  it('rejects an empty upstream list', () => {
    const err = loadError({ upstreams: {} });
    expect(err.keyPath).toBe('upstreams');
  });

  it('rejects upstream names that would break namespacing', () => {
    const err = loadError({ upstreams: { 'bad__name': { command: 'x' } } });
    expect(err.keyPath).toBe('upstreams.bad__name');
  });

  it('says what is wrong with a refused upstream name, not just "Invalid key in record"', () => {
    for (const name of ['bad__name', '_lead', 'trail_', '.dot']) {
      const err = loadError({ dangerouslyAllowAnonymous: true, upstreams: { [name]: { command: 'x' } } });
      expect(err.message).toContain(`upstreams.${name}: upstream names start with a letter or digit`);
      expect(err.message).not.toContain('Invalid key in record');
    }
    const long = loadError({ dangerouslyAllowAnonymous: true, upstreams: { ['a'.repeat(33)]: { command: 'x' } } });
    expect(long.message).toMatch(/upstreams\.a{33}: .*32/);
  });

  it('interpolates ${VAR} in HTTP upstream headers', () => {
    const file = writeTempConfig({ upstreams: { gh: { url: 'https://example.test/mcp', headers: { authorization: 'Bearer ${GITHUB_TOKEN}' } } } });
    const config = loadWardenConfig(file, { GITHUB_TOKEN: 's3cret' });
    expect((config.upstreams.gh as { headers: Record<string, string> }).headers.authorization).toBe('Bearer s3cret');
  });

  it('fails start-up naming the key when a referenced variable is missing', () => {
    const err = loadError({ upstreams: { gh: { url: 'https://example.test/mcp', headers: { authorization: 'Bearer ${GITHUB_TOKEN}' } } } });
    expect(err.keyPath).toBe('upstreams.gh.headers.authorization');
    expect(err.message).toContain('GITHUB_TOKEN');
  });

  it('names the file when YAML is malformed', () => {
    const file = writeTempConfig({});
    writeFileSync(file, 'upstreams: [unclosed');
    expect(() => loadWardenConfig(file, {})).toThrow(ConfigError);
  });

  it('puts the line and column of a YAML error before the reason, not as a dangling colon', () => {
    const file = writeTempConfig({});
    writeFileSync(file, 'upstreams:\n  acme: { command: node\nlisten: x\n');
    const first = loadError2(file).message.split('\n')[0]!;
    expect(first).toMatch(/not valid YAML \(line \d+, column \d+\): \S/);
    expect(first.endsWith(':')).toBe(false);
  });

  it('names the file when it does not exist', () => {
    expect(() => loadWardenConfig('/nonexistent/warden.yaml', {})).toThrow(/nonexistent\/warden.yaml/);
  });
});

describe('config files saved with a UTF-8 byte order mark (Windows editors)', () => {
  it.each(['warden.json', 'warden.yaml'])('reads %s with a BOM like one without', (name) => {
    const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { acme: { command: 'node', args: ['x.js'] } } }, name);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, `\uFEFF${text.startsWith('\uFEFF') ? text.slice(1) : text}`);
    expect(Object.keys(loadWardenConfig(file, {}).upstreams)).toEqual(['acme']);
  });
});
