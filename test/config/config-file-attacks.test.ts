import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

describe('secrets pulled in by ${VAR}', () => {
  const withHeader = (value: string): string =>
    writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { gh: { url: 'https://example.test/mcp', headers: { Authorization: value } } } });

  it('rejects at start-up a header whose ${VAR} value holds a line break, without echoing the secret', () => {
    const err = loadFails(withHeader('Bearer ${GH_TOKEN}'), { GH_TOKEN: 'sup3rsecret\nX-Injected: 1' });
    expect(err.code).toBe('config_invalid');
    expect(err.keyPath).toBe('upstreams.gh.headers.Authorization');
    expect(err.message).toContain('GH_TOKEN');
    expect(err.message).not.toContain('sup3rsecret');
  });

  it('rejects at start-up a header value fetch would refuse on every session (a character beyond U+00FF), without echoing it', () => {
    const err = loadFails(withHeader('Bearer ${GH_TOKEN}'), { GH_TOKEN: 'sup3rsecret\u2019' });
    expect(err.keyPath).toBe('upstreams.gh.headers.Authorization');
    expect(err.message).not.toContain('sup3rsecret');
  });

  it('rejects at start-up a header name fetch would refuse', () => {
    const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { gh: { url: 'https://example.test/mcp', headers: { 'X Api Key': 'k' } } } });
    expect(loadFails(file).keyPath).toBe('upstreams.gh.headers.X Api Key');
  });

  it('rejects at start-up a framing or connection header fetch refuses on every request (Transfer-Encoding, Keep-Alive, Upgrade, Expect, Content-Length, Connection)', async () => {
    // Proof that fetch refuses each one (so every session's upstream would fail to start)...
    const server = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const refused = { 'Transfer-Encoding': 'chunked', 'Keep-Alive': 'timeout=5', Upgrade: 'h2c', Expect: '100-continue', 'Content-Length': '5', Connection: 'upgrade' };
    try {
      for (const [name, value] of Object.entries(refused)) {
        await expect(fetch(url, { method: 'POST', body: '{}', headers: { [name]: value } }), name).rejects.toThrow();
      }
    } finally {
      server.closeAllConnections();
      server.close();
    }
    // ...and that the config names it at start-up instead.
    for (const [name, value] of Object.entries(refused)) {
      const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { gh: { url: 'https://example.test/mcp', headers: { [name]: value } } } });
      expect(loadFails(file).keyPath).toBe(`upstreams.gh.headers.${name}`);
    }
  });

  it('rejects at start-up an MCP protocol header that would override the negotiated session (Mcp-Session-Id, Mcp-Protocol-Version)', () => {
    for (const name of ['Mcp-Session-Id', 'mcp-protocol-version']) {
      const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { gh: { url: 'https://example.test/mcp', headers: { [name]: 'fixed' } } } });
      expect(loadFails(file).keyPath).toBe(`upstreams.gh.headers.${name}`);
    }
  });

  it('rejects a header value with a carriage return or NUL written in the file', () => {
    expect(loadFails(withHeader('Bearer a\rb')).keyPath).toBe('upstreams.gh.headers.Authorization');
    expect(loadFails(withHeader('Bearer a\u0000b')).keyPath).toBe('upstreams.gh.headers.Authorization');
  });
});

describe('errors inside an upstream name the key at fault', () => {
  it('a wrong type inside a stdio upstream names upstreams.<name>.args[i], not just "Invalid input" on the upstream', () => {
    const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { acme: { command: 'node', args: [1] } } });
    const err = loadFails(file);
    expect(err.keyPath).toBe('upstreams.acme.args[0]');
    expect(err.message).toContain('upstreams.acme.args[0]:');
  });

  it('a bad URL in an HTTP upstream names upstreams.<name>.url', () => {
    const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { gh: { url: 'ftp://x.test/mcp' } } });
    expect(loadFails(file).keyPath).toBe('upstreams.gh.url');
  });
});

describe('durations beyond what a timer can hold', () => {
  // setTimeout treats anything above 2^31-1 ms (about 24.8 days) as 1 ms: a "30 days" timeout
  // would fire at once (or spin re-arming), so such values are refused at start-up. (Session idle
  // times are compared by a sweep, not set as timers: they need no cap.)
  const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;

  it.each([
    ['timeouts.callMs', { timeouts: { callMs: THIRTY_DAYS_MS } }],
    ['timeouts.requestMs', { timeouts: { requestMs: THIRTY_DAYS_MS } }],
    ['timeouts.initializeMs', { timeouts: { initializeMs: THIRTY_DAYS_MS } }],
  ])('refuses %s of 30 days, naming the key', (keyPath, section) => {
    const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { acme: { command: 'node' } }, ...section });
    expect(loadFails(file).keyPath).toBe(keyPath);
  });

  it('accepts the largest timer value (2^31-1 ms)', () => {
    const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { acme: { command: 'node' } }, timeouts: { callMs: 2 ** 31 - 1 } });
    expect(loadWardenConfig(file, {}).timeouts.callMs).toBe(2 ** 31 - 1);
  });
});

describe('secrets in a stdio upstream environment', () => {
  it('rejects an env value with a NUL at start-up, without echoing the secret spawn would quote', () => {
    const file = writeTempConfig({ dangerouslyAllowAnonymous: true, upstreams: { acme: { command: 'node', env: { API_TOKEN: '${ACME_TOKEN}\u0000' } } } });
    const err = loadFails(file, { ACME_TOKEN: 'sup3rsecret' });
    expect(err.keyPath).toBe('upstreams.acme.env.API_TOKEN');
    expect(err.message).toContain('ACME_TOKEN');
    expect(err.message).not.toContain('sup3rsecret');
  });
});
