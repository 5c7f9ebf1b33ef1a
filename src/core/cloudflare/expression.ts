export interface WafExpressionOptions {
  hostnames: string[];
  /** Issuer SKI (hex) to pin: certificates from another issuer are blocked. */
  issuerSki?: string;
  /** SHA-256 fingerprints of revoked client certificates to block. */
  revokedFingerprints?: string[];
}

export function normalizeFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
}

/** Builds the WAF custom rule expression (action block). Pure. */
export function buildWafExpression(opts: WafExpressionOptions): string {
  void opts;
  return '';
}
