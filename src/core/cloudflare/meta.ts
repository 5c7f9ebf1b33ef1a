import { CloudflarePermission, STEP_IDS, STEP_META, StepId } from './steps';

export { STEP_META, StepMeta } from './steps';

export const DEFAULT_BASE_URL = 'https://api.cloudflare.com/client/v4';
/** Stable `ref` of our WAF custom rule, so a second run edits it instead of adding a duplicate. */
export const WAF_RULE_REF = 'mtls-workbench-require-client-cert';
export const WAF_PHASE = 'http_request_firewall_custom' as const;

/** The token permissions each step needs (BYO CA mode; see stepPermissions for the managed CA). */
export const STEP_PERMISSIONS: Record<StepId, CloudflarePermission[]> =
  Object.fromEntries(STEP_IDS.map(id => [id, STEP_META[id].permissions])) as Record<StepId, CloudflarePermission[]>;
