// The catalogue of the Cloudflare setup guide's steps: ids, numbers, titles, explanations, dashboard paths,
// the token permissions each step needs, and the words and marks for step statuses. Dependency-free, so
// the webview bundle, the status bar, the Certificates view and the CLI all import this one copy.

/** The steps of the guide, in order. Leg 1 = client -> Cloudflare, leg 2 = Cloudflare -> origin. */
export const STEP_IDS = ['connect', 'upload-ca', 'associate-hostnames', 'waf-rule', 'aop-mode', 'origin-config', 'ssl-mode', 'verify'] as const;
export type StepId = typeof STEP_IDS[number];

/** Steps the API can perform (the others are shown, not applied). */
export const APPLICABLE_STEPS: readonly StepId[] = ['upload-ca', 'associate-hostnames', 'waf-rule', 'aop-mode', 'ssl-mode'];

export type StepStatus = 'done' | 'todo' | 'partial' | 'error' | 'unknown' | 'manual';

/** Which CA Cloudflare verifies client certificates against: its managed CA (every plan) or an uploaded one (Enterprise). */
export type CaMode = 'managed' | 'byo';

/**
 * A token permission as the dashboard's "Create Token" form names it (scope, group, level). Account- and
 * zone-scoped "SSL and Certificates" are different permissions: the account's mTLS certificate store needs
 * the account one, hostname associations, managed client certificates and origin pulls the zone one.
 */
export type CloudflarePermission =
  | 'Zone > Zone > Read'
  | 'Account > SSL and Certificates > Edit'
  | 'Zone > SSL and Certificates > Edit'
  | 'Zone > Zone Settings > Edit'
  | 'Zone > Zone WAF > Edit';

/** One mark per status (status bar, leg badges in the Certificates view, the guide's leg summary). */
export const STATUS_MARK: Record<StepStatus, string> = { done: '✓', todo: '✗', partial: '◐', error: '!', unknown: '?', manual: '…' };
/** A badge word per status (the guide's step cards). */
export const STATUS_BADGE: Record<StepStatus, string> = { done: 'Done', todo: 'To do', partial: 'Partial', error: 'Error', unknown: 'Unknown', manual: 'Manual' };
/** A phrase per status for a leg ("Leg 1: partly set up"). */
export const STATUS_WORD: Record<StepStatus, string> = { done: 'done', todo: 'not set up', partial: 'partly set up', error: 'could not be read', unknown: 'unknown', manual: 'manual' };

export interface StepMeta {
  /** 0..7, as the guide and the CLI number the steps. */
  number: number;
  leg: 0 | 1 | 2;
  title: string;
  dashboardPath: string;
  explanation: string;
  /** Title and explanation when the zone's Cloudflare-managed CA is used instead of an uploaded CA. */
  managed?: { title: string; explanation: string; dashboardPath?: string };
  /** The token permissions this step's reads and writes need. */
  permissions: CloudflarePermission[];
  /** Same, with the Cloudflare-managed CA. */
  managedPermissions?: CloudflarePermission[];
}

/** Titles, legs, dashboard paths, explanations and permissions of every step (static: no API needed). */
export const STEP_META: Record<StepId, StepMeta> = {
  connect: {
    number: 0,
    leg: 0,
    title: 'Connect to Cloudflare',
    dashboardPath: 'My Profile > API Tokens',
    explanation: 'The API token is verified and the zone is looked up by name, with the account it belongs to and its plan. ' +
      'Bringing your own CA needs an Enterprise plan; the Cloudflare-managed CA works on every plan.',
    permissions: ['Zone > Zone > Read'],
  },
  'upload-ca': {
    number: 1,
    leg: 1,
    title: 'Upload the workspace CA',
    dashboardPath: 'SSL/TLS > Client Certificates > Manage CAs (account: Manage Account > mTLS certificates)',
    explanation: 'Cloudflare verifies client certificates against the CAs in the account\'s mTLS certificate store. ' +
      'Bringing your own CA needs an Enterprise plan and an account holds at most 5 CAs. ' +
      'The alternative on every plan is the Cloudflare-managed CA: Cloudflare signs a CSR made in the workspace store.',
    managed: {
      title: 'Use the Cloudflare-managed CA',
      explanation: 'Every zone has a CA that Cloudflare manages: it signs certificate signing requests (the key is made and stays on ' +
        'this machine) and Cloudflare checks revocation itself. Issue client certificates with "mtls cloudflare cert issue" or ' +
        'from the Certificates view.',
      dashboardPath: 'SSL/TLS > Client Certificates',
    },
    permissions: ['Account > SSL and Certificates > Edit'],
    managedPermissions: ['Zone > SSL and Certificates > Edit'],
  },
  'associate-hostnames': {
    number: 2,
    leg: 1,
    title: 'Associate the hostnames with the CA',
    dashboardPath: 'SSL/TLS > Client Certificates > Hosts',
    explanation: 'A CA does nothing until hostnames are associated with it; then Cloudflare asks clients of those ' +
      'hostnames for a certificate. The list is read, merged and written back, so other hostnames stay.',
    permissions: ['Zone > SSL and Certificates > Edit'],
  },
  'waf-rule': {
    number: 3,
    leg: 1,
    title: 'Enforce with a WAF custom rule',
    dashboardPath: 'Security > WAF > Custom rules',
    explanation: 'Cloudflare only checks the certificate; without a rule everyone still gets through. The rule blocks ' +
      'requests to the hostnames without a verified client certificate (and revoked or foreign-issuer ones). It is created ' +
      'only once every hostname is associated with a CA: before that Cloudflare asks nobody for a certificate and the rule would block everyone.',
    permissions: ['Zone > Zone WAF > Edit', 'Zone > SSL and Certificates > Edit'],
  },
  'aop-mode': {
    number: 4,
    leg: 2,
    title: 'Authenticated Origin Pulls',
    dashboardPath: 'SSL/TLS > Origin Server > Authenticated Origin Pulls',
    explanation: 'Cloudflare presents a client certificate to the origin so the origin can refuse anyone who is not Cloudflare. ' +
      'Global uses Cloudflare\'s shared certificate; zone and per-hostname use your own (per-hostname wins over zone, zone over global).',
    permissions: ['Zone > Zone Settings > Edit', 'Zone > SSL and Certificates > Edit'],
  },
  'origin-config': {
    number: 5,
    leg: 2,
    title: 'Origin: require Cloudflare\'s certificate',
    dashboardPath: '(on your origin server)',
    explanation: 'The origin must ask for and verify the client certificate against the right CA: the shared origin-pull CA ' +
      'in global mode, the CA of your own origin-pull certificate otherwise.',
    permissions: [],
  },
  'ssl-mode': {
    number: 6,
    leg: 2,
    title: 'SSL/TLS mode Full (Strict) and minimum TLS version',
    dashboardPath: 'SSL/TLS > Overview (mode) and SSL/TLS > Edge Certificates (Minimum TLS Version)',
    explanation: 'Authenticated Origin Pulls need Full or Full (Strict): Flexible and Off never open TLS to the origin, so ' +
      'no client certificate is sent. Strict also verifies the origin\'s certificate. The mode is zone-wide: it applies to every ' +
      'hostname of the zone. A stricter mode already set (Strict (SSL-Only Origin Pull)) is kept.',
    permissions: ['Zone > Zone Settings > Edit'],
  },
  verify: {
    number: 7,
    leg: 2,
    title: 'Verify both legs',
    dashboardPath: 'Security > Events',
    explanation: 'Test Leg probes the edge with and without a client certificate and the origin with and without Cloudflare\'s ' +
      'certificate, and shows what each returned.',
    permissions: [],
  },
};

/** Title, explanation and dashboard path of a step for a CA mode. */
export function stepText(id: StepId, mode: CaMode = 'byo'): { title: string; explanation: string; dashboardPath: string } {
  const m = STEP_META[id];
  const v = mode === 'managed' ? m.managed : undefined;
  return { title: v?.title ?? m.title, explanation: v?.explanation ?? m.explanation, dashboardPath: v?.dashboardPath ?? m.dashboardPath };
}

/** The permissions a step needs for a CA mode. */
export function stepPermissions(id: StepId, mode: CaMode = 'byo'): CloudflarePermission[] {
  const m = STEP_META[id];
  return (mode === 'managed' ? m.managedPermissions : undefined) ?? m.permissions;
}

/** Every permission the whole setup needs for a CA mode, in step order, without repeats. */
export function allPermissions(mode: CaMode = 'byo'): CloudflarePermission[] {
  return [...new Set(STEP_IDS.flatMap(id => stepPermissions(id, mode)))];
}

/** The two CA modes as the guide and the CLI offer them. */
export const CA_MODE_LABEL: Record<CaMode, { label: string; detail: string }> = {
  managed: { label: 'Cloudflare-managed CA (any plan)', detail: 'Cloudflare signs CSRs from this machine (the key never leaves it); revocation is native.' },
  byo: { label: 'Your own CA (Enterprise)', detail: 'Upload the workspace CA to the account (at most 5 CAs; Enterprise plans only).' },
};

/** Whether a zone plan allows bringing your own CA (the plan's legacy id or name says Enterprise). */
export function planAllowsOwnCa(plan: { legacyId?: string; name?: string } | undefined): boolean | undefined {
  if (!plan || (!plan.legacyId && !plan.name)) return undefined;
  if (plan.legacyId) return plan.legacyId.toLowerCase() === 'enterprise';
  return /enterprise/i.test(plan.name ?? '');
}
