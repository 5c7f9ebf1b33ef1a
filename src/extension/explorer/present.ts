// How the explorer shows a certificate: status, description (days left), tooltip and the inspect
// document. Pure text from core's CertificateInfo; no vscode, no forge (types only).
import type { CertificateInfo, StoreEntry, SubjectAltName, VerifyResult } from '../../core/pki';

export type ExpiryStatus = 'ok' | 'soon' | 'expired' | 'not-yet-valid' | 'revoked';

const DAY_MS = 86_400_000;

/**
 * Days until the certificate expires, to the nearest whole day: one issued for 365 days shows 365 right after
 * the "valid 365 days" toast (the start is backdated a few minutes, so rounding down would say 364).
 */
export function daysLeftOf(info: CertificateInfo, now = Date.now()): number {
  return Math.round((info.notAfter.getTime() - now) / DAY_MS);
}

export function expiryStatus(info: CertificateInfo, warnDays: number, revoked = false): ExpiryStatus {
  if (revoked) return 'revoked';
  if (info.expired || daysLeftOf(info) < 0) return 'expired';
  if (info.notYetValid) return 'not-yet-valid';
  if (daysLeftOf(info) < warnDays) return 'soon';
  return 'ok';
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "312 days", "expires in 12 days", "expires today", "expired", "not yet valid"; revoked ones say so first. */
export function daysLeftText(info: CertificateInfo, warnDays: number): string {
  const daysLeft = daysLeftOf(info);
  if (info.expired || daysLeft < 0) {
    const ago = -daysLeft;
    return ago >= 1 ? `expired ${plural(ago, 'day')} ago` : 'expired';
  }
  if (info.notYetValid) return 'not yet valid';
  if (daysLeft === 0) return 'expires today';
  if (daysLeft < warnDays) return `expires in ${plural(daysLeft, 'day')}`;
  return plural(daysLeft, 'day');
}

export function describeEntry(entry: StoreEntry, warnDays: number): string {
  const days = daysLeftText(entry.info, warnDays);
  if (entry.revoked) return `revoked · ${days}`;
  if (entry.archived) return `archived · ${days}`;
  return days;
}

export function profileLabel(info: CertificateInfo): string {
  switch (info.profile) {
    case 'ca': return info.selfSigned ? 'root CA' : 'intermediate CA';
    case 'client': return 'client (clientAuth)';
    case 'origin-pull': return 'origin-pull (Cloudflare -> origin, clientAuth)';
    case 'server': return 'server (serverAuth)';
    default: return info.isCa ? 'CA' : 'certificate';
  }
}

export function keyText(info: CertificateInfo): string {
  if (info.keyType === 'EC') return `EC ${info.curve ?? (info.keyBits ? `${info.keyBits}-bit` : '')}`.trim();
  return info.keyBits ? `${info.keyType} ${info.keyBits}` : info.keyType;
}

export function sanText(sans: SubjectAltName[]): string {
  return sans.map(s => `${s.type === 'dns' ? 'DNS' : s.type === 'ip' ? 'IP' : s.type === 'email' ? 'email' : 'URI'}:${s.value}`).join(', ');
}

export function basicConstraintsText(info: CertificateInfo): string {
  const bc = info.basicConstraints;
  if (!bc) return '(none)';
  return `CA:${bc.ca ? 'TRUE' : 'FALSE'}${bc.pathLength !== undefined ? `, pathlen:${bc.pathLength}` : ''}${bc.critical ? ' (critical)' : ''}`;
}

export function dateText(d: Date): string {
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function statusText(info: CertificateInfo, warnDays: number, revokedAt?: string): string {
  let base: string;
  const daysLeft = daysLeftOf(info);
  if (info.expired || daysLeft < 0 || info.notYetValid) base = daysLeftText(info, warnDays);
  else if (daysLeft < warnDays) base = `valid, ${daysLeftText(info, warnDays)}`;
  else base = `valid, ${plural(daysLeft, 'day')} left`;
  return revokedAt ? `REVOKED ${revokedAt.slice(0, 10)} (${base})` : base;
}

/** Field/value rows shared by the tooltip and the inspect document. */
export function fieldRows(entry: { info: CertificateInfo; certPath?: string; keyPath?: string; issuerPath?: string; revoked?: StoreEntry['revoked'] }, warnDays: number): [string, string][] {
  const i = entry.info;
  const rows: [string, string][] = [
    ['Status', statusText(i, warnDays, entry.revoked?.revokedAt)],
    ['Profile', profileLabel(i)],
    ['Subject', i.subject],
    ['Issuer', i.issuer + (i.selfSigned ? ' (self-signed)' : '')],
    ['Serial', i.serial],
  ];
  if (i.sans.length) rows.push(['SANs', sanText(i.sans)]);
  rows.push(['Key', keyText(i)], ['Signature', i.signatureAlgorithm]);
  if (i.extKeyUsage.length) rows.push(['EKU', i.extKeyUsage.join(', ')]);
  if (i.keyUsage.length) rows.push(['Key usage', i.keyUsage.join(', ') + (i.keyUsageCritical ? ' (critical)' : '')]);
  rows.push(['Basic constraints', basicConstraintsText(i)]);
  rows.push(['Not before', dateText(i.notBefore)], ['Not after', dateText(i.notAfter)]);
  rows.push(['SHA-256', i.fingerprintSha256], ['SHA-1', i.fingerprintSha1]);
  if (i.ski) rows.push(['SKI', i.ski]);
  if (i.aki) rows.push(['AKI', i.aki]);
  if (entry.revoked) rows.push(['Revoked', `${entry.revoked.revokedAt} (${entry.revoked.reason})`]);
  if (entry.certPath) rows.push(['File', entry.certPath]);
  if (entry.keyPath) rows.push(['Private key', entry.keyPath]);
  else if (entry.certPath) rows.push(['Private key', '(not in the store)']);
  if (entry.issuerPath && entry.issuerPath !== entry.certPath) rows.push(['Issued by', entry.issuerPath]);
  return rows;
}

const mdEscape = (s: string) => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, c => `\\${c}`);

/** The hover of a tree row: the essentials as a Markdown table (the inspect document has the rest). */
export function tooltipMarkdown(entry: StoreEntry, warnDays: number): string {
  const i = entry.info;
  const title = i.subjectCn ?? entry.name;
  const rows: [string, string][] = [
    ['Status', statusText(i, warnDays, entry.revoked?.revokedAt)],
    ['Subject', mdEscape(i.subject)],
    ['Issuer', mdEscape(i.issuer) + (i.selfSigned ? ' (self-signed)' : '')],
    ['Serial', '`' + i.serial + '`'],
  ];
  if (i.sans.length) rows.push(['SANs', mdEscape(sanText(i.sans))]);
  rows.push(['Key', keyText(i)]);
  if (i.extKeyUsage.length) rows.push(['EKU', i.extKeyUsage.join(', ')]);
  rows.push(['Validity', `${i.notBefore.toISOString().slice(0, 10)} to ${i.notAfter.toISOString().slice(0, 10)}`]);
  if (entry.revoked) rows.push(['Revoked', mdEscape(`${entry.revoked.revokedAt.slice(0, 10)} (${entry.revoked.reason})`)]);
  if (!entry.keyPath) rows.push(['Private key', 'not in the store']);
  // A SHA-256 fingerprint is wider than a hover: two lines of 16 bytes.
  const fp = i.fingerprintSha256;
  const half = fp.length > 48 ? fp.indexOf(':', Math.floor(fp.length / 2) - 1) + 1 : 0;
  const fpLines = half > 0 ? ['`' + fp.slice(0, half) + '`  ', '`' + fp.slice(half) + '`'] : ['`' + fp + '`'];
  return [`**${mdEscape(title)}** · ${profileLabel(i)}`, '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), '', '**SHA-256**  ', ...fpLines].join('\n');
}

/** The read-only inspect document (plain text, aligned like `openssl x509 -text` but readable). */
export function inspectText(entry: { name?: string; info: CertificateInfo; certPath?: string; keyPath?: string; issuerPath?: string; revoked?: StoreEntry['revoked'] }, warnDays: number, extra: { verify?: VerifyResult; issuerName?: string; cloudflareExpression?: string } = {}): string {
  const i = entry.info;
  const title = `${i.isCa ? 'Certificate authority' : 'Certificate'}: ${i.subjectCn ?? entry.name ?? i.subject}`;
  const rows = fieldRows(entry, warnDays);
  if (extra.verify) {
    rows.push(['Verified against', `${extra.issuerName ?? 'issuing CA'}: ${extra.verify.ok ? 'OK' : 'FAILED - ' + extra.verify.problems.join('; ')}`]);
  }
  rows.push(['Cloudflare (WAF)', `cf.tls_client_auth.cert_fingerprint_sha256 eq "${i.sha256}"`]);
  if (extra.cloudflareExpression) rows.push(['Block revoked', extra.cloudflareExpression]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const lines = [title, '='.repeat(title.length), ''];
  for (const [k, v] of rows) lines.push(`${(k + ':').padEnd(width)}${v}`);
  lines.push('', 'PEM', '---', i.pem.trim(), '');
  return lines.join('\n');
}
