// Shared helpers for the quick-fix tests: findings placed on a piece of text, as the linter places them.
import type { Finding, FindingData, RuleCode } from '../../../src/core/lint/types';
import type { CaChoice, Fix } from '../../../src/core/lint/fixes';

export const ORIGIN_PULL: CaChoice = { path: '/etc/ssl/cloudflare/origin-pull-ca.pem', label: 'origin-pull CA', kind: 'origin-pull' };
export const WORKSPACE_CA: CaChoice = { path: '/srv/pki/.mtls/acme-root/ca.pem', label: 'workspace CA acme-root', kind: 'workspace' };

/** A finding on the `nth` occurrence of `needle` in `text` (1-based positions, end exclusive). */
export function findingAt(code: RuleCode, text: string, needle: string, data?: FindingData, nth = 0, file = '/etc/nginx/sites-available/site'): Finding {
  let idx = -1;
  for (let k = 0; k <= nth; k++) {
    idx = text.indexOf(needle, idx + 1);
    if (idx < 0) throw new Error(`'${needle}' not in text`);
  }
  const before = text.slice(0, idx).split(/\r\n|\n/);
  const line = before.length;
  const column = before[before.length - 1].length + 1;
  return { file, line, column, endLine: line, endColumn: column + needle.length, severity: 'warning', code, message: code, data };
}

export function fixOf(fixes: Fix[], kind: Fix['kind'], caKind?: string): Fix {
  const f = fixes.find(x => x.kind === kind && (!caKind || x.ca?.kind === caKind));
  if (!f) throw new Error(`no ${kind} fix among: ${fixes.map(x => x.kind + ' ' + x.title).join(' | ')}`);
  return f;
}

/** Dedent a template literal: strips the common leading whitespace and the first/last empty line. */
export function conf(s: string): string {
  const lines = s.replace(/^\n/, '').replace(/\n[ ]*$/, '\n').split('\n');
  const ind = Math.min(...lines.filter(l => l.trim()).map(l => /^ */.exec(l)![0].length));
  return lines.map(l => l.slice(ind)).join('\n');
}
