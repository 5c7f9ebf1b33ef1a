/**
 * An error the user can act on: a stable code for scripts and tests, and a message that says what went
 * wrong and, where we know it, what to do. Everything in src/core throws these for bad input.
 */
export class MtlsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MtlsError';
  }

  /** The message with its hint, as a CLI or a notification shows it. */
  describe(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}

export function isMtlsError(err: unknown): err is MtlsError {
  return err instanceof MtlsError;
}

/** A one-line description of any thrown value, for logs and error messages. */
export function describeError(err: unknown): string {
  if (err instanceof MtlsError) return err.describe();
  if (err instanceof Error) return err.message;
  return String(err);
}
