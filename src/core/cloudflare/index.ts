// The Cloudflare setup plan (issue 5): read the live state of both legs, plan the missing calls, apply
// them safely. Public API: the CLI (`mtls cloudflare`) and the extension's guide use only what is
// exported here. The `cloudflare` SDK is loaded lazily on the first call that talks to the API.
export * from './types';
export { STEP_META, STEP_PERMISSIONS, WAF_RULE_REF, WAF_PHASE, DEFAULT_BASE_URL } from './meta';
export { buildWafExpression, WafExpressionOptions, normalizeFingerprint } from './expression';
export { explainCloudflareError } from './errors';
export { originConfigSnippet, cloudflareIpAllowlist } from './snippets';
export { readStatus, planSteps, applySteps, fetchIpRanges } from './plan';
