import { describe, expect, it } from 'vitest';
import { closestName } from '../../src/core/closest-name.js';

describe('closestName', () => {
  it('takes another spelling of the same name (case, - and _) however many separators it differs by', () => {
    expect(closestName('max_request_bytes_in_flight', ['maxRequestBytes', 'maxRequestBytesInFlight'])).toBe('maxRequestBytesInFlight');
    expect(closestName('--dry_run', ['--dry-run', '--json'])).toBe('--dry-run');
  });
  it('allows two edits for a long name and one for a short one', () => {
    expect(closestName('defualts', ['defaults', 'rules'])).toBe('defaults');
    expect(closestName('htt', ['http', 'stdio'])).toBe('http');
    expect(closestName('hp', ['http', 'stdio'])).toBeUndefined();
  });
  it('suggests nothing for a different word', () => {
    expect(closestName('tcp', ['stdio', 'http'])).toBeUndefined();
  });
});
