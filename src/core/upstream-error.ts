/**
 * What of an upstream's JSON-RPC `error` warden keeps for the audit and the risk signals. The
 * upstream is not trusted to send what JSON-RPC promises: its `code` may be a string, an object, a
 * number beyond double range or a megabyte of text, its `message` any JSON value, and `error`
 * itself a string or an array. The audit record table promises an integer code and a string
 * message, so anything else is kept as a fixed marker, never as sent. The agent still gets the
 * upstream's answer as it was (warden relays it; it promises nothing about it).
 */

/** `error.code` of an upstream error whose code is not a (safe) integer. */
export const CODE_NOT_AN_INTEGER = '[NOT_AN_INTEGER]';
/** `error.message` of an upstream error whose message is not a string. */
export const MESSAGE_NOT_A_STRING = '[NOT_A_STRING]';

export interface UpstreamErrorFields {
  readonly code: number | typeof CODE_NOT_AN_INTEGER;
  readonly message: string;
}

/** Runs only for an answer that carries an error: nothing is added to a successful call. */
export function upstreamErrorFields(error: unknown): UpstreamErrorFields {
  const fields = typeof error === 'object' && error !== null && !Array.isArray(error) ? (error as Record<string, unknown>) : {};
  const code = fields.code;
  const message = fields.message;
  return {
    code: typeof code === 'number' && Number.isSafeInteger(code) ? code : CODE_NOT_AN_INTEGER,
    message: typeof message === 'string' ? message : MESSAGE_NOT_A_STRING,
  };
}
