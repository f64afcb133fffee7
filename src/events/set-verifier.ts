import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ConfigError } from '../core/errors.js';
import { boundedJwksFetch } from '../identity/bounded-jwks-fetch.js';
import type { EventsConfig, TransmitterKeys } from './events-config.js';

/** RFC 8935 §2.4 error codes. */
export type SetErrorCode =
  | 'invalid_request'
  | 'invalid_key'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'authentication_failed'
  | 'access_denied';

/** A verified Security Event Token. */
export interface VerifiedSet {
  readonly jti: string;
  readonly iss: string;
  /** Seconds since the epoch. */
  readonly iat: number;
  readonly subId: unknown;
  readonly events: Readonly<Record<string, Record<string, unknown>>>;
  readonly txn: string | undefined;
}

export type SetVerification =
  | { readonly ok: true; readonly set: VerifiedSet }
  | {
      readonly ok: false;
      readonly err: SetErrorCode;
      readonly description: string;
      /** Not the SET's fault (the keys could not be fetched): the transmitter should send it again. */
      readonly retryable?: boolean;
    };

type KeySource = KeyObject | JWTVerifyGetKey;

/** Loads the transmitter's keys once at start-up; a bad file is a ConfigError naming it. */
export function loadTransmitterKeys(keys: TransmitterKeys, configFile = 'config'): KeySource {
  // jose reads the key server's answer whole: bounded here as the token issuers' key sets are.
  if ('jwksUrl' in keys) return createRemoteJWKSet(new URL(keys.jwksUrl), { [customFetch]: boundedJwksFetch() });
  const file = 'jwksFile' in keys ? keys.jwksFile : keys.publicKeyPemFile;
  const keyPath = 'jwksFile' in keys ? 'events.transmitter.keys.jwksFile' : 'events.transmitter.keys.publicKeyPemFile';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read ${file}`, { file: configFile, keyPath }, { cause });
  }
  try {
    if ('jwksFile' in keys) return createLocalJWKSet(JSON.parse(text));
    return createPublicKey(text);
  } catch (cause) {
    throw new ConfigError(`${file} is not a valid ${'jwksFile' in keys ? 'JWKS' : 'PEM public key'}`, { file: configFile, keyPath }, { cause });
  }
}

function fail(err: SetErrorCode, description: string): SetVerification {
  return { ok: false, err, description };
}

/**
 * Maps a jose failure to the RFC 8935 code that tells the transmitter what to fix. `keyFound`:
 * the key to check the signature with was had (a PEM key always is; a JWKS once its lookup
 * returned), so what failed after it is the SET's own doing and failing it again will not heal.
 */
function mapJoseError(e: unknown, keyFound: boolean): SetVerification {
  if (e instanceof errors.JWTClaimValidationFailed || e instanceof errors.JWTExpired) {
    if (e.claim === 'iss') return fail('invalid_issuer', 'issuer is not the configured transmitter');
    if (e.claim === 'aud') return fail('invalid_audience', 'audience is not this receiver');
    return fail('invalid_request', `claim check failed: ${e.claim} (${e.reason})`);
  }
  if (
    e instanceof errors.JWSSignatureVerificationFailed ||
    e instanceof errors.JWKSNoMatchingKey ||
    e instanceof errors.JWKSMultipleMatchingKeys ||
    e instanceof errors.JOSEAlgNotAllowed ||
    e instanceof errors.JWKInvalid
  ) {
    return fail('invalid_key', 'signature or signing key is not acceptable');
  }
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid) return unavailable();
  // An algorithm the key cannot check (RS256 for an EC key, ES384 for a P-256 one): jose says
  // "not supported", or WebCrypto throws a DOMException of its own. Either is final: answered
  // 503, the transmitter sent the same SET again for as long as it retries. Any other error stays
  // retryable below: a 400 would make the transmitter drop what may be a revocation.
  if (keyFound && (e instanceof errors.JOSENotSupported || e instanceof DOMException)) {
    return fail('invalid_key', 'the signing key does not fit the SET\'s algorithm');
  }
  if (e instanceof errors.JOSEError) return fail('invalid_request', 'malformed SET');
  // Not jose judging the SET but the key fetch failing (connection refused, DNS, TLS): a final 400
  // here made the transmitter drop the event, so a key-server outage silently lost revocations.
  return unavailable();
}

function unavailable(): SetVerification {
  return { ok: false, err: 'invalid_key', description: 'transmitter keys unavailable; send the SET again later', retryable: true };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** SSF/RFC 8417 shape rules jose does not check. */
function checkShape(payload: JWTPayload, nowSec: number, config: EventsConfig): SetVerification {
  // SSF forbids `sub` and `exp`: a SET is not an access token and must never be usable as one.
  if ('sub' in payload) return fail('invalid_request', 'top-level sub is not allowed in a SET');
  if ('exp' in payload) return fail('invalid_request', 'top-level exp is not allowed in a SET');
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) {
    return fail('invalid_request', 'jti must be a non-empty string');
  }
  const iat = payload.iat;
  if (typeof iat !== 'number') return fail('invalid_request', 'iat must be a number');
  // A SET older than the replay window could be replayed once its jti was forgotten.
  if (iat > nowSec + config.clockToleranceSeconds) return fail('invalid_request', 'iat is in the future');
  if (iat < nowSec - config.replayWindowSeconds) return fail('invalid_request', 'SET is older than the replay window');
  const events = payload.events;
  if (!isObject(events) || Object.keys(events).length === 0 || !Object.values(events).every(isObject)) {
    return fail('invalid_request', 'events must be a non-empty object of event objects');
  }
  return {
    ok: true,
    set: {
      jti: payload.jti,
      iss: String(payload.iss),
      iat,
      subId: (payload as Record<string, unknown>).sub_id,
      events: events as Record<string, Record<string, unknown>>,
      txn: typeof payload.txn === 'string' ? payload.txn : undefined,
    },
  };
}

/** Verifies one compact SET against the configured transmitter. Never throws. */
export async function verifySet(token: string, keys: KeySource, config: EventsConfig, nowMs: number): Promise<SetVerification> {
  const t = config.transmitter;
  let keyFound = typeof keys !== 'function';
  const key: KeySource = typeof keys !== 'function' ? keys : async (header, jws) => {
    const found = await (keys as JWTVerifyGetKey)(header, jws);
    keyFound = true;
    return found;
  };
  try {
    const { payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
      issuer: t.issuer,
      audience: t.audience,
      algorithms: t.algorithms,
      typ: 'secevent+jwt',
      requiredClaims: ['jti', 'iat', 'events'],
      clockTolerance: config.clockToleranceSeconds,
      currentDate: new Date(nowMs),
    });
    return checkShape(payload, Math.floor(nowMs / 1000), config);
  } catch (e) {
    return mapJoseError(e, keyFound);
  }
}
