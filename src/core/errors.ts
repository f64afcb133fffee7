/**
 * Faults are exceptions carrying a stable string `code`; expected outcomes are values.
 * Each area subclasses WardenError so a boundary can map faults without parsing messages.
 */
export class WardenError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Misconfiguration found at start-up. Names the file and the key path at fault. */
export class ConfigError extends WardenError {
  readonly file: string | undefined;
  readonly keyPath: string | undefined;

  constructor(
    message: string,
    where: { file?: string; keyPath?: string } = {},
    options?: { cause?: unknown },
  ) {
    // Callers that already prefixed the message (zod-error.ts) pass it through untouched.
    const prefix = [where.file, where.keyPath].filter(Boolean).join(': ');
    const alreadyPrefixed = where.file !== undefined && message.startsWith(`${where.file}: `);
    super('config_invalid', prefix && !alreadyPrefixed ? `${prefix}: ${message}` : message, options);
    this.file = where.file;
    this.keyPath = where.keyPath;
  }
}

/** Wraps anything thrown that is not a WardenError, so the boundary can treat it as internal. */
export function toWardenError(err: unknown): WardenError {
  if (err instanceof WardenError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new WardenError('internal', message, { cause: err });
}
