import type { RequestBytesInFlight } from './request-bytes-in-flight.js';
import type { RequestsInFlight } from './requests-in-flight.js';

/**
 * Why an HTTP request does not fit under a bound on requests in flight, as the listener audits
 * (`request.refused`) and answers it (429, -32000, `data.reason`). The message names the key to
 * change.
 */
export interface InFlightRefusal {
  readonly reason: 'too_many_requests_in_flight' | 'too_many_request_bytes_in_flight';
  /** Requests open on the session, or bytes the principal holds in flight. */
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
  return { reason: 'too_many_requests_in_flight', open, limit, message };
}

/** `bytes` more would take principal `owner` past listen.http.maxRequestBytesInFlightPerPrincipal. */
export function bytesRefusal(budget: RequestBytesInFlight, owner: string, bytes: number): InFlightRefusal {
  const open = budget.heldBy(owner);
  const limit = budget.limit;
  const message = `too many request bytes in flight for this principal (${open} held, this request ${bytes}, limit ${limit}: listen.http.maxRequestBytesInFlightPerPrincipal); wait for an answer before sending more`;
  return { reason: 'too_many_request_bytes_in_flight', open, limit, bytes, message };
}
