import * as vscode from 'vscode';

/** The one key the Cloudflare API token is stored under in VS Code's SecretStorage (OS keychain). */
export const TOKEN_SECRET_KEY = 'mtls.cloudflare.apiToken';

/**
 * The Cloudflare API token, kept in `context.secrets` only: never in settings, logs, the webview or its
 * state. Callers ask for it right before a call and drop it afterwards.
 */
export class TokenStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the token is set, replaced or cleared (in this window or another one). */
  readonly onDidChange = this.changed.event;
  private readonly sub: vscode.Disposable;
  private cachedIsSet: boolean | undefined;

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.sub = secrets.onDidChange(e => {
      if (e.key === TOKEN_SECRET_KEY) { this.cachedIsSet = undefined; this.changed.fire(); }
    });
  }

  async get(): Promise<string | undefined> {
    const t = await this.secrets.get(TOKEN_SECRET_KEY);
    this.cachedIsSet = !!t;
    return t || undefined;
  }

  async isSet(): Promise<boolean> {
    if (this.cachedIsSet === undefined) await this.get();
    return !!this.cachedIsSet;
  }

  async set(token: string): Promise<void> {
    await this.secrets.store(TOKEN_SECRET_KEY, token);
    this.cachedIsSet = true;
  }

  async clear(): Promise<void> {
    await this.secrets.delete(TOKEN_SECRET_KEY);
    this.cachedIsSet = false;
  }

  dispose() {
    this.sub.dispose();
    this.changed.dispose();
  }
}

/** A plausible API token: Cloudflare tokens are 40 URL-safe characters; accept 20-200 without whitespace. */
export function validateTokenShape(value: string): string | undefined {
  const v = value.trim();
  if (!v) return 'Paste the API token (Cloudflare dashboard: My Profile > API Tokens).';
  if (/\s/.test(v)) return 'A token has no spaces or line breaks.';
  if (v.length < 20 || v.length > 200) return 'That does not look like a Cloudflare API token (40 characters).';
  if (/^(Bearer\s)/i.test(v)) return 'Paste the token without "Bearer".';
  return undefined;
}

/** Replaces every occurrence of `secret` in `text` (for logs and messages, as a last line of defence). */
export function scrub(text: string, secret: string | undefined): string {
  return secret && secret.length >= 8 ? text.split(secret).join('$CLOUDFLARE_API_TOKEN') : text;
}
