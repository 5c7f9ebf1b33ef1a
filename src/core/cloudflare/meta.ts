import { CloudflarePermission, StepId } from './types';

export const DEFAULT_BASE_URL = 'https://api.cloudflare.com/client/v4';
/** Stable `ref` of our WAF custom rule, so a second run edits it instead of adding a duplicate. */
export const WAF_RULE_REF = 'mtls-workbench-require-client-cert';
export const WAF_PHASE = 'http_request_firewall_custom' as const;

export interface StepMeta {
  leg: 0 | 1 | 2;
  title: string;
  dashboardPath: string;
  explanation: string;
}

/** Titles, legs, dashboard paths and explanations of every step (static: no API needed). */
export const STEP_META: Record<StepId, StepMeta> = {
  connect: {
    leg: 0,
    title: 'Connect to Cloudflare',
    dashboardPath: 'My Profile > API Tokens',
    explanation: 'The API token is verified and the zone is looked up by name, with the account it belongs to. ' +
      'The token needs Zone Read, SSL and Certificates Write, Zone Settings Write and Zone WAF Write on this zone.',
  },
  'upload-ca': {
    leg: 1,
    title: 'Upload the workspace CA',
    dashboardPath: 'SSL/TLS > Client Certificates > Manage CAs (account: Manage Account > mTLS certificates)',
    explanation: 'Cloudflare verifies client certificates against the CAs in the account\'s mTLS certificate store. ' +
      'Bringing your own CA needs an Enterprise plan and an account holds at most 5 CAs. ' +
      'The alternative is the Cloudflare-managed CA: Cloudflare signs a CSR from the workspace store.',
  },
  'associate-hostnames': {
    leg: 1,
    title: 'Associate the hostnames with the CA',
    dashboardPath: 'SSL/TLS > Client Certificates > Hosts',
    explanation: 'An uploaded CA does nothing until hostnames are associated with it; then Cloudflare asks clients of those ' +
      'hostnames for a certificate. The list is read, merged and written back, so other hostnames stay.',
  },
  'waf-rule': {
    leg: 1,
    title: 'Enforce with a WAF custom rule',
    dashboardPath: 'Security > WAF > Custom rules',
    explanation: 'Cloudflare only checks the certificate; without a rule everyone still gets through. The rule blocks ' +
      'requests to the hostnames without a verified client certificate (and revoked or foreign-issuer ones).',
  },
  'aop-mode': {
    leg: 2,
    title: 'Authenticated Origin Pulls',
    dashboardPath: 'SSL/TLS > Origin Server > Authenticated Origin Pulls',
    explanation: 'Cloudflare presents a client certificate to the origin so the origin can refuse anyone who is not Cloudflare. ' +
      'Global uses Cloudflare\'s shared certificate; zone and per-hostname use your own (per-hostname wins over zone, zone over global).',
  },
  'origin-config': {
    leg: 2,
    title: 'Origin: require Cloudflare\'s certificate',
    dashboardPath: '(on your origin server)',
    explanation: 'The origin must ask for and verify the client certificate against the right CA: the shared origin-pull CA ' +
      'in global mode, the CA of your own origin-pull certificate otherwise.',
  },
  'ssl-mode': {
    leg: 2,
    title: 'SSL/TLS mode Full (Strict) and minimum TLS version',
    dashboardPath: 'SSL/TLS > Overview (mode) and SSL/TLS > Edge Certificates (Minimum TLS Version)',
    explanation: 'Authenticated Origin Pulls need Full or Full (Strict): Flexible and Off never open TLS to the origin, so ' +
      'no client certificate is sent. Strict also verifies the origin\'s certificate.',
  },
  verify: {
    leg: 2,
    title: 'Verify both legs',
    dashboardPath: 'Security > Events',
    explanation: 'Test Leg probes the edge with and without a client certificate and the origin with and without Cloudflare\'s ' +
      'certificate, and shows what each returned.',
  },
};

/** The token permission each step's writes need (reads need the same family's Read, or Zone Read). */
export const STEP_PERMISSIONS: Record<StepId, CloudflarePermission[]> = {
  connect: ['Zone Read'],
  'upload-ca': ['SSL and Certificates Write'],
  'associate-hostnames': ['SSL and Certificates Write'],
  'waf-rule': ['Zone WAF Write'],
  'aop-mode': ['SSL and Certificates Write', 'Zone Settings Write'],
  'origin-config': [],
  'ssl-mode': ['Zone Settings Write'],
  verify: [],
};
