// The Cloudflare setup plan (issue 5): read the live state of both legs, plan the missing calls, apply
// them safely. Public API: the CLI (`mtls cloudflare`) and the extension's guide use only what is
// exported here. The `cloudflare` SDK is loaded lazily on the first call that talks to the API.
export * from './types';
export { STEP_META, STEP_PERMISSIONS, WAF_RULE_REF, WAF_PHASE, DEFAULT_BASE_URL, StepMeta } from './meta';
export {
  buildWafExpression, WafExpressionOptions, normalizeFingerprint, normalizeHostnames, normalizeSki, normalizeExpression, MAX_EXPRESSION_LENGTH,
} from './expression';
export { explainCloudflareError, isPermissionError, KNOWN_CODES } from './errors';
export { originConfigSnippet, cloudflareIpAllowlist, AllowlistKind } from './snippets';
export { readStatus, planSteps, applySteps, fetchIpRanges, resolveBaseURL, lookupZone } from './plan';
export { CLOUDFLARE_ORIGIN_PULL_CA_PEM, CLOUDFLARE_ORIGIN_PULL_CA_SHA256 } from './originPullCa';
export {
  issueManagedCertificate, listManagedCertificates, revokeManagedCertificate, reactivateManagedCertificate, MANAGED_KEY_TYPES, DEFAULT_MANAGED_DAYS,
  ManagedCertificate, IssuedManagedCertificate, IssueManagedOptions, ManagedCaOptions, ManagedStatus,
} from './managedCa';
export {
  STATUS_MARK, STATUS_BADGE, STATUS_WORD, CA_MODE_LABEL, APPLICABLE_STEPS, stepText, stepPermissions, allPermissions, planAllowsOwnCa,
} from './steps';
export { isNetworkError, isTimeoutError } from './errors';
export { DEFAULT_TIMEOUT_MS } from './plan';
