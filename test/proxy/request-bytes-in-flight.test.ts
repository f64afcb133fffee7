import { describe, expect, it } from 'vitest';
import { RequestBytesInFlight, type RequestCharge } from '../../src/proxy/request-bytes-in-flight.js';
import { RequestsInFlight } from '../../src/proxy/requests-in-flight.js';

/**
 * The accounting behind listen.http.maxRequestBytesInFlightPerPrincipal, in process. The release
 * paths are proven against a real warden in http-request-bytes-in-flight.test.ts; these pin the
 * orderings a process test cannot force (a request reaching a session already closed, a drain
 * settled twice).
 */
/** A charge that must fit (the test fails here, not later, when it does not). */
function charged(budget: RequestBytesInFlight, owner: string, bytes: number): RequestCharge {
  const c = budget.charge(owner, bytes);
  if (typeof c === 'string') throw new Error(`expected ${bytes} bytes for ${owner} to fit, refused: ${c}`);
  return c;
}

describe('RequestBytesInFlight', () => {
  it('refuses a principal past its budget and charges nothing then; other principals keep theirs', () => {
    const budget = new RequestBytesInFlight(100);
    const first = charged(budget, 'alice', 60);
    expect(budget.charge('alice', 41)).toBe('principal');
    expect(budget.heldBy('alice')).toBe(60);
    charged(budget, 'bob', 100);
    first.release();
    charged(budget, 'alice', 100);
  });

  it('a charge released twice gives its bytes back once (a double release would let a principal past its budget)', () => {
    const budget = new RequestBytesInFlight(100);
    const a = charged(budget, 'alice', 60);
    charged(budget, 'alice', 40);
    a.release();
    a.release();
    expect(budget.heldBy('alice')).toBe(40);
    expect(budget.charge('alice', 61)).toBe('principal');
  });

  it('many principals each within their share cannot together pass the overall budget (503 for the next, whoever it is)', () => {
    const budget = new RequestBytesInFlight(100, 250);
    const held = ['p1', 'p2'].map((p) => charged(budget, p, 100));
    charged(budget, 'p3', 50);
    expect(budget.heldOverall).toBe(250);
    expect(budget.charge('p4', 1)).toBe('overall');
    expect(budget.charge('p3', 1)).toBe('overall');
    expect(budget.heldBy('p4')).toBe(0);
    held[0]!.release();
    held[0]!.release();
    expect(budget.heldOverall).toBe(150);
    charged(budget, 'p4', 100);
    expect(budget.charge('p5', 1)).toBe('overall');
  });
});

describe('RequestsInFlight with charges', () => {
  const setup = () => {
    const budget = new RequestBytesInFlight(1_000);
    return { budget, requests: new RequestsInFlight(10), charge: (bytes = 100) => charged(budget, 'p', bytes) };
  };

  it('holds a received request\'s charge until it ends; the handover then leaves it alone', () => {
    const { budget, requests, charge } = setup();
    const c = charge();
    requests.expect(1, c);
    expect(requests.received(1)).toBe('ok');
    requests.handedOver(1, c);
    expect(budget.heldBy('p')).toBe(100);
    requests.ended(1);
    requests.ended(1);
    expect(budget.heldBy('p')).toBe(0);
  });

  it('releases at handover the charge of a request the session never took up (a duplicate id, a POST the transport refused)', () => {
    const { budget, requests, charge } = setup();
    const first = charge();
    requests.expect('x', first);
    requests.received('x');
    const dup = charge(50);
    requests.expect('x', dup);
    expect(requests.received('x')).toBe('duplicate');
    requests.handedOver('x', dup);
    const refused = charge(30);
    requests.expect('y', refused);
    requests.handedOver('y', refused);
    expect(budget.heldBy('p')).toBe(100);
  });

  it('keeps a cancelled request\'s charge while the upstream may still run it, until drained (once)', () => {
    const { budget, requests, charge } = setup();
    requests.expect(1, charge());
    requests.received(1);
    const drained = requests.drainStarted(1);
    requests.ended(1);
    expect(budget.heldBy('p')).toBe(100);
    expect(requests.count).toBe(1);
    drained();
    drained();
    expect(budget.heldBy('p')).toBe(0);
    expect(requests.count).toBe(0);
  });

  it('a closed session releases every charge it holds or expects, and any it is handed later at once', () => {
    const { budget, requests, charge } = setup();
    requests.expect(1, charge());
    requests.received(1);
    requests.expect(2, charge());
    requests.received(2);
    const drained = requests.drainStarted(2);
    const waiting = charge();
    requests.expect(3, waiting);
    requests.close();
    expect(budget.heldBy('p')).toBe(0);
    // Late events of the closed session change nothing.
    drained();
    requests.received(3);
    requests.handedOver(3, waiting);
    const late = charge();
    requests.expect(4, late);
    expect(budget.heldBy('p')).toBe(0);
    requests.received(4);
    requests.ended(1);
    expect(budget.heldBy('p')).toBe(0);
    charged(budget, 'p', 1_000);
  });
});
