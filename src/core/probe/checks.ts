// The catalogue of Test Leg's checks: ids, legs, titles and the short labels of the fixes offered next to a
// failure. Dependency-free, so the CLI, the Test Explorer (at activation, without loading the probes) and
// the guide's webview import it without pulling in Node's TLS stack.

export type LegId = 'leg1' | 'leg2';

export type CheckId =
  | 'edge-requests-client-cert'
  | 'edge-blocks-without-cert'
  | 'edge-allows-with-cert'
  | 'edge-rejects-foreign-cert'
  | 'origin-requires-client-cert'
  | 'origin-rejects-foreign-cert'
  | 'origin-accepts-pull-cert'
  | 'origin-cert-valid'
  | 'origin-requested-cas';

/** Actions an adapter can offer next to a failure. */
export type FixAction = 'settings' | 'issue-client-cert' | 'issue-pull-cert' | 'origin-config' | 'guide-waf' | 'guide-association' | 'guide-aop' | 'guide-ssl-mode';

export const LEG_TITLES: Record<LegId, string> = {
  leg1: 'Leg 1: client → Cloudflare',
  leg2: 'Leg 2: Cloudflare → origin',
};

/** "Leg 1" / "Leg 2", for badges and summaries. */
export const LEG_SHORT_TITLES: Record<LegId, string> = { leg1: 'Leg 1', leg2: 'Leg 2' };

/** The checks in the order the probes run and the views list them. */
export const CHECKS: Record<CheckId, { leg: LegId; title: string }> = {
  'edge-requests-client-cert': { leg: 'leg1', title: 'Edge asks for a client certificate' },
  'edge-blocks-without-cert': { leg: 'leg1', title: 'Edge blocks requests without a certificate' },
  'edge-allows-with-cert': { leg: 'leg1', title: 'Edge lets the client certificate through' },
  'edge-rejects-foreign-cert': { leg: 'leg1', title: 'Edge refuses a certificate from an unrelated CA' },
  'origin-requires-client-cert': { leg: 'leg2', title: 'Origin requires a client certificate' },
  'origin-rejects-foreign-cert': { leg: 'leg2', title: 'Origin refuses a certificate from an unrelated CA' },
  'origin-accepts-pull-cert': { leg: 'leg2', title: 'Origin accepts the origin-pull certificate' },
  'origin-cert-valid': { leg: 'leg2', title: 'Origin certificate is valid for Full (Strict)' },
  'origin-requested-cas': { leg: 'leg2', title: 'Origin names the origin-pull CA' },
};

export const CHECK_IDS = Object.keys(CHECKS) as CheckId[];

export function checksOf(leg: LegId): CheckId[] {
  return CHECK_IDS.filter(id => CHECKS[id].leg === leg);
}

/** The button label of each fix action (several actions may share one button). */
export const FIX_LABELS: Record<FixAction, string> = {
  'settings': 'Open Settings',
  'issue-client-cert': 'Issue Client Certificate',
  'issue-pull-cert': 'Issue Origin-Pull Certificate',
  'origin-config': 'Open Origin Config',
  'guide-waf': 'Open Setup Guide',
  'guide-association': 'Open Setup Guide',
  'guide-aop': 'Open Setup Guide',
  'guide-ssl-mode': 'Open Setup Guide',
};

/** The setting (or CLI option) each probe input comes from, for "not configured" messages and settings links. */
export const INPUT_SETTINGS = {
  client: { setting: 'mtls.clientCertificate', key: 'mtls.clientKey', cli: '--cert/--key or --p12', what: 'client certificate' },
  pull: { setting: 'mtls.originPullCertificate', key: 'mtls.originPullKey', cli: '--pull-cert/--pull-key', what: 'origin-pull certificate' },
  originCa: { setting: 'mtls.trustedOriginCa', cli: '--origin-ca', what: 'trusted origin CA' },
} as const;
