import { describe, expect, it } from 'vitest';
import { EventsConfigSchema } from '../../src/events/events-config.js';
import { reactionFor } from '../../src/events/event-types.js';
import { CAEP } from './set-helpers.js';

/**
 * CAEP assurance-level-change: `namespace` and `current_level` are required, `previous_level` and
 * `change_direction` optional ("if the Transmitter omits previous_level, the Receiver MUST assume
 * that the previous assurance level is unknown to the Transmitter"). An IdP that reports a user
 * dropping to nist-aal1 with the current level alone was ignored: the user kept calling
 * high-sensitivity tools on a session authenticated at a level it no longer holds. And the levels
 * of two namespaces were compared as one list, so aal3 -> nist-aal1 read as a raise.
 */
const transmitter = { issuer: 'i', audience: 'a', keys: { jwksFile: 'x' } };
const config = EventsConfigSchema.parse({ transmitter });
const reaction = (event: Record<string, unknown>, c = config) => reactionFor(`${CAEP}assurance-level-change`, event, c).kind;

describe('assurance-level-change without a usable previous level (lowered assurance reported by its current level only)', () => {
  it.each([
    ['current level only, below the top of its list', { namespace: 'NIST-AAL', current_level: 'nist-aal1' }, 'step_up'],
    ['current level only, in the middle of its list', { namespace: 'RFC8176', current_level: 'AAL2' }, 'step_up'],
    ['a previous level warden does not know', { namespace: 'NIST-AAL', previous_level: 'nist-aal9', current_level: 'nist-aal2' }, 'step_up'],
    ['levels of two lists: aal3 -> nist-aal1 is no raise', { previous_level: 'aal3', current_level: 'nist-aal1' }, 'step_up'],
  ])('steps up: %s', (_name, event, kind) => {
    expect(reaction(event)).toBe(kind);
  });

  it.each([
    ['current level only, the top of its list', { namespace: 'NIST-AAL', current_level: 'nist-aal3' }],
    ['current level only, the top of the other list (not below nist-aal3)', { current_level: 'aal3' }],
    ['a level from two lists that is the top of its own', { previous_level: 'nist-aal1', current_level: 'aal3' }],
    ['an explicit increase', { namespace: 'NIST-AAL', current_level: 'nist-aal2', change_direction: 'increase' }],
    ['a current level warden does not know (a custom namespace)', { namespace: 'Retinal Scan', current_level: 'hi-res-scan' }],
    ['a known raise', { previous_level: 'aal1', current_level: 'aal2' }],
  ])('leaves alone: %s', (_name, event) => {
    expect(reaction(event)).toBe('none');
  });

  it('a configured single list still orders every level in it', () => {
    const flat = EventsConfigSchema.parse({ transmitter, levels: { assurance: ['bronze', 'silver', 'gold'] } });
    expect(reaction({ current_level: 'Silver' }, flat)).toBe('step_up');
    expect(reaction({ current_level: 'gold' }, flat)).toBe('none');
    expect(reaction({ previous_level: 'gold', current_level: 'bronze' }, flat)).toBe('step_up');
  });

  it('several lists can be configured, each lowest first', () => {
    const lists = EventsConfigSchema.parse({ transmitter, levels: { assurance: [['bronze', 'gold'], ['loa1', 'loa2', 'loa3']] } });
    expect(reaction({ previous_level: 'gold', current_level: 'loa2' }, lists)).toBe('step_up');
    expect(reaction({ previous_level: 'loa1', current_level: 'loa3' }, lists)).toBe('none');
    expect(reaction({ current_level: 'gold' }, lists)).toBe('none');
  });
});
