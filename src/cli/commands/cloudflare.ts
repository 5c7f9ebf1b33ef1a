// `mtls cloudflare status|apply|ips`: the Cloudflare setup guide for scripts and CI.
import * as path from 'path';
import { CliCommand, CliIO, parseCommandArgs, printJson, requireOption } from '../io';
import { MtlsError } from '../../core/errors';
import { readFileOrThrow } from '../../core/fsutil';
import type { AllowlistKind, ApplyReport, CloudflareOptions, SetupStatus, StepId, StepState } from '../../core/cloudflare';

const USAGE = `Usage:
  mtls cloudflare status --zone ZONE --host HOST [--host HOST]... (--managed | --ca FILE) [options] [--json]
  mtls cloudflare apply  --zone ZONE --host HOST [--host HOST]... (--managed | --ca FILE) [options] [--dry-run] [--json]
  mtls cloudflare cert issue --zone ZONE --cn CN [--days N] [--key ec-p256|rsa2048] [--name NAME] [--store DIR] [--json]
  mtls cloudflare cert list --zone ZONE [--store DIR] [--json]
  mtls cloudflare cert revoke FILE|ID --zone ZONE [--store DIR] [--json]
  mtls cloudflare cert reactivate FILE|ID --zone ZONE [--store DIR] [--json]
  mtls cloudflare ips [--format nginx|nginx-realip|apache|ufw|iptables|json] [--port 443]

Reads what is already set up on Cloudflare for mutual TLS on both legs, and applies what is missing.
Leg 1 needs a CA that Cloudflare trusts for the hostnames:
  --managed    the zone's Cloudflare-managed CA (every plan). Issue client certificates with
               \`mtls cloudflare cert issue\`: the key and CSR are made here, Cloudflare signs the CSR.
  --ca FILE    your own CA (the workspace CA, PEM), uploaded to the account. Enterprise plans only
               (at most 5 CAs per account); on other plans the run stops at step 0, before any write.

Steps, and the token permission each needs (Create Token: scope > group > level):
  0 connect              token and zone (with its plan)         Zone > Zone > Read
  1 upload-ca            --ca: CA -> account mTLS store           Account > SSL and Certificates > Edit
                         --managed: nothing to upload            Zone > SSL and Certificates > Edit (to list)
  2 associate-hostnames  hostnames -> CA (merged, never dropped) Zone > SSL and Certificates > Edit
  3 waf-rule             block requests without a valid cert     Zone > Zone WAF > Edit (+ Zone SSL read)
                         written only once every hostname is associated with a CA
  4 aop-mode             Authenticated Origin Pulls              Zone > Zone Settings > Edit / Zone > SSL and Certificates > Edit
  5 origin-config        the origin's nginx/Apache block         (manual)
  6 ssl-mode             Full (Strict) (zone-wide; never lowered), minimum TLS   Zone > Zone Settings > Edit
  7 verify               run \`mtls probe\` / Test Leg            (manual)

Options:
  --zone ZONE            the Cloudflare zone, e.g. example.com
  --host HOST            a hostname clients reach through Cloudflare (repeatable)
  --managed              use the zone's Cloudflare-managed CA (every plan)
  --ca FILE              use your own CA (PEM; Enterprise only)
  --ca-name NAME         its name in Cloudflare's mTLS certificate store
  --aop MODE             global (default: Cloudflare's shared certificate), zone or hostname (your own)
  --pull-cert FILE       origin-pull client certificate (PEM, a leaf) for --aop zone|hostname
  --pull-key FILE        its private key (PEM); sent only to Cloudflare, never printed
  --pull-ca FILE         the CA that issued the origin-pull certificate (for the origin snippet)
  --replace-old          zone-level AOP rotation: remove the older certificate once the new one is active
  --revoked SHA256       block this client certificate fingerprint (repeatable; --ca mode)
  --pin-issuer           also block certificates whose issuer SKI is not your CA's (default: on when
                         another CA is associated with a target hostname)
  --no-pin-issuer        never pin the issuer
  --min-tls VERSION      minimum TLS version (default 1.2; never lowered)
  --step STEP            apply only this step (repeatable)
  --origin SERVER        show the origin config block (nginx, apache, caddy or haproxy) in the status text
  --timeout MS           per API call (default 30000); a hanging API ends with a timeout error
  --dry-run              list the exact calls (with curl) without sending any write
  --json                 machine-readable output
  cert: --cn CN, --days N (default 365), --key ec-p256 (default) | rsa2048, --name NAME,
        --store DIR (default .mtls): the certificate, key (0600) and API id land in
        DIR/cloudflare-managed/ZONE/

Environment:
  CLOUDFLARE_API_TOKEN   the API token (required; never printed)
  CLOUDFLARE_BASE_URL    API base URL (default https://api.cloudflare.com/client/v4)

Exit status: 0 when the command worked (status: read, apply: nothing failed), 1 on a failure, 2 on bad usage.
`;

const OPTIONS = {
  zone: { type: 'string' },
  host: { type: 'string', multiple: true },
  ca: { type: 'string' },
  managed: { type: 'boolean' },
  'ca-name': { type: 'string' },
  aop: { type: 'string' },
  'pull-cert': { type: 'string' },
  'pull-key': { type: 'string' },
  'pull-ca': { type: 'string' },
  'replace-old': { type: 'boolean' },
  revoked: { type: 'string', multiple: true },
  'pin-issuer': { type: 'boolean' },
  'no-pin-issuer': { type: 'boolean' },
  'min-tls': { type: 'string' },
  step: { type: 'string', multiple: true },
  origin: { type: 'string' },
  timeout: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  format: { type: 'string' },
  port: { type: 'string' },
  cn: { type: 'string' },
  days: { type: 'string' },
  key: { type: 'string' },
  name: { type: 'string' },
  store: { type: 'string' },
} as const;

const ICON: Record<string, string> = { done: '[done]   ', todo: '[todo]   ', partial: '[partial]', error: '[error]  ', unknown: '[?]      ', manual: '[manual] ' };

export const command: CliCommand = {
  summary: 'read and apply the Cloudflare mTLS setup (CA, hostnames, WAF rule, AOP, SSL mode)',
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const [sub, ...rest] = argv;
    if (!sub) throw new MtlsError('usage', 'Missing subcommand: status, apply, cert or ips.');
    if (sub === 'cert') return runCert(rest, io);
    const { values } = parseCommandArgs(rest, OPTIONS);
    const timeoutMs = parseTimeout(values.timeout);
    const cf = await import('../../core/cloudflare');
    const token = io.env.CLOUDFLARE_API_TOKEN?.trim() || undefined;
    const baseURL = io.env.CLOUDFLARE_BASE_URL?.trim() || undefined;

    if (sub === 'ips') {
      const format = (values.format ?? 'nginx') as AllowlistKind | 'json';
      const kinds = ['nginx', 'nginx-realip', 'apache', 'ufw', 'iptables', 'json'];
      if (!kinds.includes(format)) throw new MtlsError('usage', `Unknown --format ${format} (${kinds.join(', ')}).`);
      const port = values.port ? Number(values.port) : undefined;
      if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new MtlsError('usage', `--port ${values.port} is not a port number.`);
      const ranges = await cf.fetchIpRanges({ token, baseURL, timeoutMs }).catch(err => { throw apiFailure(cf, err); });
      if (format === 'json' || values.json) printJson(io, ranges);
      else io.stdout(cf.cloudflareIpAllowlist(format, ranges, { port }));
      return 0;
    }
    if (sub !== 'status' && sub !== 'apply') throw new MtlsError('usage', `Unknown subcommand "${sub}" (status, apply, cert, ips).`);

    checkCaChoice(values);
    if (!token) {
      throw new MtlsError('cloudflare-no-token', 'CLOUDFLARE_API_TOKEN is not set.',
        `Create an API token (My Profile > API Tokens) with ${cf.allPermissions(values.managed ? 'managed' : 'byo').join('; ')}, and export it as CLOUDFLARE_API_TOKEN.`);
    }
    const opts = await buildOptions(values, io, token, baseURL, timeoutMs);

    if (sub === 'status') {
      const status = await cf.readStatus(opts);
      if (values.json) printJson(io, status);
      else io.stdout(formatStatus(status, opts, values.origin));
      return status.steps.some(s => s.status === 'error') ? 1 : 0;
    }

    const steps = values.step as StepId[] | undefined;
    const unknown = (steps ?? []).filter(s => !cf.STEP_IDS.includes(s));
    if (unknown.length) throw new MtlsError('usage', `Unknown step ${unknown.join(', ')} (${cf.STEP_IDS.join(', ')}).`);
    const report = await cf.applySteps(opts, {
      steps, dryRun: !!values['dry-run'],
      onProgress: values.json ? undefined : e => {
        if (e.phase === 'call' && !values['dry-run']) io.stderr(`  ${e.step}: ${e.message}\n`);
      },
    });
    if (values.json) printJson(io, report);
    else io.stdout(formatReport(report));
    return report.ok ? 0 : 1;
  },
};

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** Exactly one of --managed and --ca: both modes explained when neither or both are given. */
function checkCaChoice(values: Values): void {
  const both = 'Choose the CA Cloudflare checks client certificates against: --managed for the zone\'s Cloudflare-managed CA ' +
    '(every plan; issue certificates with `mtls cloudflare cert issue`), or --ca FILE to upload your own CA (Enterprise plans only).';
  if (values.managed && values.ca) throw new MtlsError('usage', '--managed and --ca exclude each other.', both);
  if (!values.managed && !values.ca) throw new MtlsError('usage', 'Missing --managed or --ca FILE.', both);
  if (values['pin-issuer'] && values['no-pin-issuer']) throw new MtlsError('usage', '--pin-issuer and --no-pin-issuer exclude each other.');
  if (values.managed && (values['pin-issuer'] || values.revoked?.length)) {
    throw new MtlsError('usage', '--pin-issuer and --revoked are for your own CA; the managed CA\'s revocations are native (mtls cloudflare cert revoke).');
  }
}

function parseTimeout(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 100 || n > 600000) throw new MtlsError('usage', `--timeout ${v} is not a number of milliseconds from 100 to 600000.`);
  return n;
}

async function buildOptions(values: Values, io: CliIO, token: string, baseURL: string | undefined, timeoutMs: number | undefined): Promise<CloudflareOptions> {
  const read = async (file: string) => (await readFileOrThrow(path.resolve(io.cwd, file))).toString('utf8');
  const zoneName = requireOption(values.zone, 'zone');
  const hostnames = values.host ?? [];
  if (!hostnames.length) throw new MtlsError('usage', 'Missing required option --host.');
  const caPem = values.ca ? await read(values.ca) : undefined;
  const aop = (values.aop ?? 'global') as CloudflareOptions['aopMode'];
  if (!['global', 'zone', 'hostname'].includes(aop)) throw new MtlsError('usage', `Unknown --aop ${aop} (global, zone or hostname).`);
  if (aop !== 'global' && (!values['pull-cert'] || !values['pull-key'])) {
    throw new MtlsError('usage', `--aop ${aop} needs --pull-cert and --pull-key (your origin-pull certificate and its key).`);
  }
  const minTls = values['min-tls'] as CloudflareOptions['minTlsVersion'];
  if (minTls && !['1.0', '1.1', '1.2', '1.3'].includes(minTls)) throw new MtlsError('usage', `--min-tls ${minTls} is not 1.0, 1.1, 1.2 or 1.3.`);
  if (values.origin && !['nginx', 'apache', 'caddy', 'haproxy'].includes(values.origin as string)) throw new MtlsError('usage', '--origin is nginx, apache, caddy or haproxy.');
  return {
    token, baseURL, zoneName, hostnames, caMode: values.managed ? 'managed' : 'byo', caPem, caName: values['ca-name'], aopMode: aop,
    timeoutMs, replaceOldPullCerts: !!values['replace-old'],
    pullCertPem: values['pull-cert'] ? await read(values['pull-cert']) : undefined,
    pullKeyPem: values['pull-key'] ? await read(values['pull-key']) : undefined,
    pullCaPem: values['pull-ca'] ? await read(values['pull-ca']) : undefined,
    revokedFingerprints: values.revoked, pinIssuerSki: values['pin-issuer'] ? true : values['no-pin-issuer'] ? false : undefined, minTlsVersion: minTls,
    originServer: values.origin as 'nginx' | 'apache' | 'caddy' | 'haproxy' | undefined,
  };
}

const CERT_OPTIONS = {
  zone: OPTIONS.zone, cn: OPTIONS.cn, days: OPTIONS.days, key: OPTIONS.key, name: OPTIONS.name, store: OPTIONS.store, json: OPTIONS.json, timeout: OPTIONS.timeout,
} as const;

/** `mtls cloudflare cert issue|list|revoke|reactivate`: client certificates from the zone's Cloudflare-managed CA. */
async function runCert(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  const subs = ['issue', 'list', 'revoke', 'reactivate'];
  if (!sub || !subs.includes(sub)) throw new MtlsError('usage', sub ? `Unknown subcommand "cert ${sub}" (${subs.join(', ')}).` : `Missing subcommand: cert ${subs.join('|')}.`);
  const { values, positionals } = parseCommandArgs(rest, CERT_OPTIONS, true);
  const cf = await import('../../core/cloudflare');
  const { resolveStorePath } = await import('../../core/pki/store');
  const zoneName = requireOption(values.zone, 'zone');
  const token = io.env.CLOUDFLARE_API_TOKEN?.trim();
  if (!token) throw new MtlsError('cloudflare-no-token', 'CLOUDFLARE_API_TOKEN is not set.', 'Create an API token with Zone > Zone > Read and Zone > SSL and Certificates > Edit on the zone, and export it as CLOUDFLARE_API_TOKEN.');
  const base = { token, baseURL: io.env.CLOUDFLARE_BASE_URL?.trim() || undefined, zoneName, timeoutMs: parseTimeout(values.timeout) };
  const storeDir = resolveStorePath(io.cwd, values.store);

  if (sub === 'issue') {
    if (positionals.length) throw new MtlsError('usage', `Unexpected argument ${positionals[0]}.`);
    const days = values.days === undefined ? undefined : Number(values.days);
    if (days !== undefined && !Number.isInteger(days)) throw new MtlsError('usage', `--days ${values.days} is not a whole number.`);
    const issued = await cf.issueManagedCertificate({
      ...base, storeDir, cn: requireOption(values.cn, 'cn'), days, key: values.key as never, name: values.name,
      onProgress: values.json ? undefined : m => io.stderr(`${m}\n`),
    });
    if (values.json) printJson(io, { id: issued.id, status: issued.status, cert: issued.cert, key: issued.key, expiresOn: issued.expiresOn });
    else {
      io.stdout(`Issued by the Cloudflare-managed CA of ${zoneName}: ${issued.commonName ?? issued.name} (${issued.id}, ${issued.status ?? 'active'}, expires ${issued.expiresOn}).\n` +
        `  certificate: ${issued.cert}\n  key:         ${issued.key} (made here; never sent)\n` +
        (issued.confirmedAfterError ? '  (Cloudflare\'s answer was lost; the certificate was found by reading the list again, not requested twice.)\n' : ''));
    }
    return 0;
  }
  if (sub === 'list') {
    if (positionals.length) throw new MtlsError('usage', `Unexpected argument ${positionals[0]}.`);
    const list = await cf.listManagedCertificates({ ...base, storeDir });
    if (values.json) printJson(io, list);
    else if (!list.length) io.stdout(`The Cloudflare-managed CA of ${zoneName} has issued no client certificate yet (mtls cloudflare cert issue).\n`);
    else {
      io.stdout(list.map(c => `${(c.status ?? '?').padEnd(20)} ${c.id}  ${c.commonName ?? ''}  expires ${c.expiresOn ?? '?'}${c.cert ? `  ${c.cert}` : ''}`).join('\n') + '\n');
    }
    return 0;
  }
  const target = positionals[0];
  if (!target || positionals.length > 1) throw new MtlsError('usage', `cert ${sub} takes one certificate: a file of the store or a certificate id.`);
  const changed = sub === 'revoke'
    ? await cf.revokeManagedCertificate({ ...base, storeDir, cwd: io.cwd }, target)
    : await cf.reactivateManagedCertificate({ ...base, storeDir, cwd: io.cwd }, target);
  if (values.json) printJson(io, changed);
  else io.stdout(`${changed.commonName ?? changed.id}: ${changed.status}${sub === 'revoke' ? ' (the WAF rule blocks it through cf.tls_client_auth.cert_revoked)' : ''}.\n`);
  return 0;
}

function apiFailure(cf: typeof import('../../core/cloudflare'), err: unknown): MtlsError {
  const e = cf.explainCloudflareError(err);
  return new MtlsError(e.code !== undefined ? `cf-${e.code}` : 'cloudflare-api', `${e.code !== undefined ? `Cloudflare error ${e.code}: ` : ''}${e.message}`, e.meaning, { cause: err });
}

function indent(text: string, by = '            '): string {
  return text.split('\n').map(l => (l ? by + l : l)).join('\n');
}

function formatStep(s: StepState, index: number, origin?: string): string[] {
  const lines = [`${ICON[s.status] ?? s.status} ${index} ${s.title}: ${s.summary}`];
  for (const d of s.details ?? []) lines.push(`            - ${d}`);
  if (s.missingPermissions?.length && s.id !== 'connect') lines.push(`            missing permission: ${s.missingPermissions.join(', ')}`);
  if (s.error && s.status === 'error') lines.push(`            ${s.error.code !== undefined ? `Cloudflare error ${s.error.code}: ` : ''}${s.error.meaning}`);
  for (const c of s.plannedCalls) lines.push(`            -> ${c.method} ${c.path}`);
  if (s.id === 'origin-config' && origin && s.manual) {
    const block = s.manual[origin as 'nginx' | 'apache' | 'caddy' | 'haproxy'] ?? s.manual.nginx;
    if (block) lines.push(indent(block.trimEnd()));
  }
  lines.push(`            dashboard: ${s.dashboardPath}`);
  return lines;
}

export function formatStatus(status: SetupStatus, opts: CloudflareOptions, origin?: string): string {
  const z = status.zone;
  const out = [
    `Cloudflare mTLS setup for ${opts.hostnames.join(', ')}${z ? ` (zone ${z.name} ${z.id}, account ${z.accountName ?? z.accountId})` : ''}`,
    `Leg 1 (client -> Cloudflare, ${status.caMode === 'managed' ? 'Cloudflare-managed CA' : 'your own CA'}): ${status.legs[1]}    Leg 2 (Cloudflare -> origin, AOP ${opts.aopMode}): ${status.legs[2]}`,
    '',
  ];
  if (status.unreachable) out.push(`${status.unreachable.message} ${status.unreachable.meaning}`, '');
  status.steps.forEach((s, i) => out.push(...formatStep(s, i, origin)));
  if (status.missingPermissions.length) out.push('', `Missing token permissions: ${status.missingPermissions.join(', ')}.`);
  const pending = status.steps.reduce((n, s) => n + s.plannedCalls.length, 0);
  if (pending) out.push('', `${pending} call${pending > 1 ? 's' : ''} to make: run \`mtls cloudflare apply\` with the same options (add --dry-run to see them with curl first).`);
  return out.join('\n') + '\n';
}

export function formatReport(r: ApplyReport): string {
  const out: string[] = [];
  if (r.dryRun) {
    out.push(r.calls.length ? `Dry run: ${r.calls.length} call${r.calls.length > 1 ? 's' : ''} would be made (nothing was sent but reads):` : 'Dry run: nothing to do.');
    for (const c of r.calls) {
      out.push('', `# ${c.step}: ${c.description ?? ''}`, `# SDK: ${c.sdk}`, c.curl);
    }
    out.push('');
  } else if (r.calls.length) {
    out.push('Calls made:');
    for (const c of r.calls) {
      out.push(`  ${c.ok ? 'ok    ' : c.outcomeUnknown ? 'UNKNOWN' : 'FAILED'} ${c.step}: ${c.method} ${c.path}` +
        (c.confirmedAfterError ? ' (the answer was lost; a re-read found the result, so it was not sent again)' : '') +
        (c.outcomeUnknown ? ' (outcome not known: read the status before applying again)' : ''));
    }
    out.push('');
  }
  out.push(`Done: ${r.done.length ? r.done.join(', ') : '(none)'}`);
  if (r.failed) {
    const e = r.failed.error;
    out.push(`Failed: ${r.failed.step}: ${e.code !== undefined ? `Cloudflare error ${e.code}: ` : ''}${e.message}`);
    out.push(`        ${e.meaning}`);
  }
  out.push(`Remaining: ${r.remaining.length ? r.remaining.join(', ') : '(none)'}`);
  return out.join('\n') + '\n';
}
