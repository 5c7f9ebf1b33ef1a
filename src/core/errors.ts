/** The stable codes of MtlsError: scripts and tests match on these. */
export type MtlsErrorCode =
  // input the user gave
  | 'usage' | 'bad-option' | 'bad-name' | 'bad-pem' | 'bad-csr' | 'bad-key' | 'expression-too-long' | 'unsupported'
  // certificates, keys and PKCS#12
  | 'cert-invalid' | 'cert-no-ski' | 'key-invalid' | 'key-mismatch' | 'no-ca-key' | 'no-password' | 'p12-format' | 'p12-password'
  // files and folders
  | 'exists' | 'not-found' | 'no-folder' | 'fs-unreadable' | 'fs-unwritable'
  // Cloudflare: `cf-<code>` carries the API's own error code
  | 'cloudflare-no-token' | 'cloudflare-order' | 'cloudflare-api' | `cf-${number}`
  | 'cloudflare-timeout' | 'cloudflare-unknown-outcome' | 'cloudflare-not-associated'
  // the local edge, and a person who stopped
  | 'edge-listen' | 'cancelled';

/**
 * An error the user can act on: a stable code for scripts and tests, and a message that says what went
 * wrong and, where we know it, what to do. Everything in src/core throws these for bad input.
 */
export class MtlsError extends Error {
  constructor(
    readonly code: MtlsErrorCode,
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

/**
 * The person dismissed a prompt or a dialog, or interrupted the CLI: whoever started the action ends it
 * quietly, without an error message.
 */
export class UserCancelled extends MtlsError {
  constructor() {
    super('cancelled', 'Cancelled.');
    this.name = 'UserCancelled';
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
