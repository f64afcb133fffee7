import type { ChargeRefused, RequestBytesInFlight } from './request-bytes-in-flight.js';
import type { RequestsInFlight } from './requests-in-flight.js';

/**
 * Why an HTTP request does not fit under a bound on requests in flight, as the listener audits
 * (`request.refused`) and answers it (429, -32000, `data.reason`). The message names the key to
 * change.
 */
export interface InFlightRefusal {
  readonly reason: 'too_many_requests_in_flight' | 'too_many_request_bytes_in_flight' | 'warden_request_bytes_in_flight';
  /** 429: the caller's own share is full; 503: warden's, held by every caller together. */
  readonly status: 429 | 503;
  /** Requests open on the session, or bytes the principal (or, overall, everyone) holds in flight. */
  readonly open: number;
  readonly limit: number;
  /** The refused request's body size (bytes refusals only). */
  readonly bytes?: number;
  readonly message: string;
}

/** The session holds listen.http.maxRequestsInFlightPerSession requests already. */
export function countRefusal(requests: RequestsInFlight): InFlightRefusal {
  const open = requests.count;
  const limit = requests.limit;
  const message = `too many requests in flight on this session (${open}, limit ${limit}: listen.http.maxRequestsInFlightPerSession); wait for an answer before sending more`;
  return { reason: 'too_many_requests_in_flight', status: 429, open, limit, message };
}

/** `bytes` more would take principal `owner` past its share, or everyone past warden's whole budget. */
export function bytesRefusal(budget: RequestBytesInFlight, owner: string, bytes: number, refused: ChargeRefused): InFlightRefusal {
  if (refused === 'overall') {
    const open = budget.heldOverall;
    const limit = budget.overallLimit;
    const message = `warden holds too many request bytes in flight for all callers together (${open} held, this request ${bytes}, limit ${limit}: listen.http.maxRequestBytesInFlight); try again later`;
    return { reason: 'warden_request_bytes_in_flight', status: 503, open, limit, bytes, message };
  }
  const open = budget.heldBy(owner);
  const limit = budget.limit;
  const message = `too many request bytes in flight for this principal (${open} held, this request ${bytes}, limit ${limit}: listen.http.maxRequestBytesInFlightPerPrincipal); wait for an answer before sending more`;
  return { reason: 'too_many_request_bytes_in_flight', status: 429, open, limit, bytes, message };
}
