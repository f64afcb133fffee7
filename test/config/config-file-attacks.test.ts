import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { ConfigError } from '../../src/core/errors.js';
import { loadWardenConfig } from '../../src/config/load-config.js';
import { writeTempConfig } from '../helpers/warden-process.js';

function loadFails(file: string, env: Record<string, string> = {}): ConfigError {
  try {
    loadWardenConfig(file, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const upstream = '{"acme":{"command":"node","args":["server.js"]}}';

describe('config file attacks', () => {
  it('rejects a duplicate key in a JSON config (a later dangerouslyAllowAnonymous must not silently win)', () => {
    const file = writeTempConfig({}, 'warden.json');
    writeFileSync(file, `{"upstreams":${upstream},"dangerouslyAllowAnonymous":false,"logging":{"level":"warn"},"dangerouslyAllowAnonymous":true}`);
    const err = loadFails(file);
    expect(err.code).toBe('config_invalid');
    expect(err.message).toContain(file);
    expect(err.message).toContain('dangerouslyAllowAnonymous');
  });

  it('rejects a duplicate key nested in a JSON config, naming its path', () => {
    const file = writeTempConfig({}, 'warden.json');
    writeFileSync(file, `{"upstreams":{"acme":{"command":"node","args":["a.js", {"x":1}, ["x"]],"command":"sh"}}}`);
    const err = loadFails(file);
    expect(err.message).toContain('upstreams.acme.command');
  });

  it('still accepts the same key name in sibling JSON objects and keys that look alike once escaped', () => {
    const file = writeTempConfig({}, 'warden.json');
    writeFileSync(file, `{"upstreams":{"a":{"command":"node","env":{"X":"1","\\u0058Y":"2"}},"b":{"command":"node","env":{"X":"1"}}},"dangerouslyAllowAnonymous":true, "logging": {"level": "warn"}}`);
    const config = loadWardenConfig(file, {});
    expect(Object.keys(config.upstreams)).toEqual(['a', 'b']);
  });
});
