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

  it('an IPv6 sender cannot take every slot by sending from many addresses of its /64', () => {
    const slots = new RequestSlots(16, 2);
    expect(slots.take('2001:db8:1:2::1').ok).toBe(true);
    expect(slots.take('2001:db8:1:2::2').ok).toBe(true);
    // A third address of the same /64 is the same sender: its share is spent.
    expect(slots.take('2001:db8:1:2:dead:beef:0:3')).toMatchObject({ ok: false, status: 429 });
    // Another /64, and an IPv4-mapped address counted as its IPv4 address, are other senders.
    expect(slots.take('2001:db8:1:3::1').ok).toBe(true);
    expect(slots.take('::ffff:192.0.2.7').ok).toBe(true);
    expect(slots.take('192.0.2.7').ok).toBe(true);
    expect(slots.take('::ffff:192.0.2.7')).toMatchObject({ ok: false, status: 429 });
  });
});
