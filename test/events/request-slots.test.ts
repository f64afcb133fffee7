import { describe, expect, it } from 'vitest';
import { RequestSlots } from '../../src/events/request-slots.js';

describe('RequestSlots', () => {
  it('one address gets its share (429 beyond), all together the cap (503 beyond)', () => {
    const slots = new RequestSlots(3, 2);
    expect(slots.take('a').ok).toBe(true);
    expect(slots.take('a').ok).toBe(true);
    expect(slots.take('a')).toMatchObject({ ok: false, status: 429 });
    expect(slots.take('b').ok).toBe(true);
    expect(slots.take('c')).toMatchObject({ ok: false, status: 503 });
    expect(slots.inFlight).toBe(3);
  });

  it('a released slot is free again, and releasing twice frees it once', () => {
    const slots = new RequestSlots(1, 1);
    const first = slots.take('a');
    if (!first.ok) throw new Error('no slot');
    first.slot.release();
    first.slot.release();
    const second = slots.take('b');
    expect(second.ok).toBe(true);
    expect(slots.take('c')).toMatchObject({ ok: false, status: 503 });
    expect(slots.inFlight).toBe(1);
  });
});
