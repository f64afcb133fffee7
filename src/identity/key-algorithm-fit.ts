import { importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { WardenError } from '../core/errors.js';
import { ASYMMETRIC_ALGORITHMS } from './identity-config.js';

/**
 * A signing algorithm that cannot be used with a private key: ES384 for a P-256 key, RS256 for an
 * EC key, or a name that is no asymmetric JWS algorithm at all. Carries what does fit, so the
 * message can say what to pass instead of jose's "Invalid key type".
 */
export class KeyAlgorithmMismatchError extends WardenError {
  constructor(
    /** The algorithm asked for. */
    readonly alg: string,
    /** Where it came from: the `--alg` option, or the JWK's own `alg` member. */
    readonly source: 'option' | 'jwk',
    /** What the key is, e.g. `EC P-256`, `RSA 2048-bit`, `Ed25519`; undefined if nothing imports it. */
    readonly keyKind: string | undefined,
    /** The asymmetric algorithms the key can sign with (empty: none). */
    readonly fitting: readonly string[],
  ) {
    const asked = source === 'option' ? `--alg ${alg}` : `the JWK's "alg" ${alg}`;
    const known = (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg);
    const what = known ? `does not fit this key${keyKind ? ` (${keyKind})` : ''}` : 'is not an asymmetric JWS signing algorithm';
    const fits = fitting.length > 0 ? `algorithms that fit: ${fitting.join(', ')}` : 'no JWS signing algorithm fits this key';
    super('key_algorithm_mismatch', `${asked} ${what}; ${fits}`);
  }
}

type Importer = (alg: string) => Promise<CryptoKey | Uint8Array>;

/** The key's kind as an operator names it, from an imported key's WebCrypto algorithm. */
function kindOf(key: CryptoKey): string {
  const a = key.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
  if (a.namedCurve) return `EC ${a.namedCurve}`;
  if (a.modulusLength) return `RSA ${a.modulusLength}-bit`;
  return a.name;
}

/**
 * Tries `alg` and, only when it fails, every asymmetric algorithm to learn which fit (a failure
 * path: eleven imports cost milliseconds). The key of `alg` when it fits.
 */
async function importFitting(importer: Importer, alg: string, source: 'option' | 'jwk'): Promise<CryptoKey | Uint8Array> {
  try {
    return await importer(alg);
  } catch (err) {
    const fitting: string[] = [];
    let keyKind: string | undefined;
    for (const candidate of ASYMMETRIC_ALGORITHMS) {
      try {
        const key = await importer(candidate);
        if (key instanceof Uint8Array) continue;
        fitting.push(candidate);
        keyKind ??= kindOf(key);
      } catch {
        // does not fit: left out
      }
    }
    // Nothing fits either: the key itself is the problem (jose's message says how), not the algorithm.
    if (fitting.length === 0 && (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) throw err;
    throw new KeyAlgorithmMismatchError(alg, source, keyKind, fitting);
  }
}

/** Imports a PKCS#8 PEM private key for `alg`; a misfit is a {@link KeyAlgorithmMismatchError}. */
export function importPemFor(pem: string, alg: string): Promise<CryptoKey | Uint8Array> {
  return importFitting((a) => importPKCS8(pem, a), alg, 'option');
}

/** Imports a private JWK for `alg`; a misfit is a {@link KeyAlgorithmMismatchError}. */
export function importJwkFor(jwk: JWK, alg: string, source: 'option' | 'jwk'): Promise<CryptoKey | Uint8Array> {
  return importFitting((a) => importJWK(jwk, a), alg, source);
}
