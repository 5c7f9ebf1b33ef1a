// `mtls cloudflare status|apply|ips`: the Cloudflare setup guide for scripts and CI.
import * as path from 'path';
import { CliCommand, CliIO, parseCommandArgs, printJson, requireOption } from '../io';
import { MtlsError } from '../../core/errors';
import { readFileOrThrow } from '../../core/fsutil';
import type { AllowlistKind, ApplyReport, CloudflareOptions, SetupStatus, StepId, StepState } from '../../core/cloudflare';

const USAGE = `Usage:
  mtls cloudflare status --zone ZONE --host HOST [--host HOST]... --ca FILE [options] [--json]
  mtls cloudflare apply  --zone ZONE --host HOST [--host HOST]... --ca FILE [options] [--dry-run] [--json]
  mtls cloudflare ips [--format nginx|nginx-realip|apache|ufw|iptables|json] [--port 443]

Reads what is already set up on Cloudflare for mutual TLS on both legs, and applies what is missing:
  0 connect              token and zone                        (Zone Read)
  1 upload-ca            workspace CA -> account mTLS store    (SSL and Certificates Write)
  2 associate-hostnames  hostnames -> CA (merged, never dropped) (SSL and Certificates Write)
  3 waf-rule             block requests without a valid cert   (Zone WAF Write)
  4 aop-mode             Authenticated Origin Pulls            (Zone Settings Write / SSL and Certificates Write)
  5 origin-config        the origin's nginx/Apache block       (manual)
  6 ssl-mode             Full (Strict), minimum TLS version    (Zone Settings Write)
  7 verify               run \`mtls probe\` / Test Leg          (manual)

Options:
  --zone ZONE            the Cloudflare zone, e.g. example.com
  --host HOST            a hostname clients reach through Cloudflare (repeatable)
  --ca FILE              the workspace CA certificate (PEM) that signs client certificates
  --ca-name NAME         its name in Cloudflare's mTLS certificate store
  --aop MODE             global (default: Cloudflare's shared certificate), zone or hostname (your own)
  --pull-cert FILE       origin-pull client certificate (PEM, a leaf) for --aop zone|hostname
  --pull-key FILE        its private key (PEM); sent only to Cloudflare, never printed
  --pull-ca FILE         the CA that issued the origin-pull certificate (for the origin snippet)
  --revoked SHA256       block this client certificate fingerprint (repeatable)
  --pin-issuer           also block certificates whose issuer SKI is not the workspace CA's
  --min-tls VERSION      minimum TLS version (default 1.2)
  --step STEP            apply only this step (repeatable)
  --origin SERVER       show the origin config block (nginx, apache, caddy or haproxy) in the status text
  --dry-run              list the exact calls (with curl) without sending any write
  --json                 machine-readable output

Environment:
  CLOUDFLARE_API_TOKEN   the API token (required; never printed)
  CLOUDFLARE_BASE_URL    API base URL (default https://api.cloudflare.com/client/v4)

Exit status: 0 when the command worked (status: read, apply: nothing failed), 1 on a failure, 2 on bad usage.
`;

const OPTIONS = {
  zone: { type: 'string' },
  host: { type: 'string', multiple: true },
  ca: { type: 'string' },
  'ca-name': { type: 'string' },
  aop: { type: 'string' },
  'pull-cert': { type: 'string' },
  'pull-key': { type: 'string' },
  'pull-ca': { type: 'string' },
  revoked: { type: 'string', multiple: true },
  'pin-issuer': { type: 'boolean' },
  'min-tls': { type: 'string' },
  step: { type: 'string', multiple: true },
  origin: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  format: { type: 'string' },
  port: { type: 'string' },
} as const;

const ICON: Record<string, string> = { done: '[done]   ', todo: '[todo]   ', partial: '[partial]', error: '[error]  ', unknown: '[?]      ', manual: '[manual] ' };

export const command: CliCommand = {
  summary: 'Read and apply the Cloudflare mTLS setup (CA, hostnames, WAF rule, AOP, SSL mode)',
  usage: USAGE,
  async run(argv: string[], io: CliIO): Promise<number> {
    const [sub, ...rest] = argv;
    if (!sub) throw new MtlsError('usage', 'Missing subcommand: status, apply or ips.');
    const { values } = parseCommandArgs(rest, OPTIONS);
    const cf = await import('../../core/cloudflare');
    const token = io.env.CLOUDFLARE_API_TOKEN?.trim() || undefined;
    const baseURL = io.env.CLOUDFLARE_BASE_URL?.trim() || undefined;

    if (sub === 'ips') {
      const format = (values.format ?? 'nginx') as AllowlistKind | 'json';
      const kinds = ['nginx', 'nginx-realip', 'apache', 'ufw', 'iptables', 'json'];
      if (!kinds.includes(format)) throw new MtlsError('usage', `Unknown --format ${format} (${kinds.join(', ')}).`);
      const port = values.port ? Number(values.port) : undefined;
      if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new MtlsError('usage', `--port ${values.port} is not a port number.`);
      const ranges = await cf.fetchIpRanges({ token, baseURL }).catch(err => { throw apiFailure(cf, err); });
      if (format === 'json' || values.json) printJson(io, ranges);
      else io.stdout(cf.cloudflareIpAllowlist(format, ranges, { port }));
      return 0;
    }
    if (sub !== 'status' && sub !== 'apply') throw new MtlsError('usage', `Unknown subcommand "${sub}" (status, apply, ips).`);

    if (!token) {
      throw new MtlsError('cloudflare-no-token', 'CLOUDFLARE_API_TOKEN is not set.',
        'Create an API token (My Profile > API Tokens) with Zone Read, SSL and Certificates Write, Zone Settings Write and Zone WAF Write on the zone, and export it as CLOUDFLARE_API_TOKEN.');
    }
    const opts = await buildOptions(values, io, token, baseURL);

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

async function buildOptions(values: Values, io: CliIO, token: string, baseURL?: string): Promise<CloudflareOptions> {
  const read = async (file: string) => (await readFileOrThrow(path.resolve(io.cwd, file))).toString('utf8');
  const zoneName = requireOption(values.zone, 'zone');
  const hostnames = values.host ?? [];
  if (!hostnames.length) throw new MtlsError('usage', 'Missing required option --host.');
  const caPem = await read(requireOption(values.ca, 'ca'));
  const aop = (values.aop ?? 'global') as CloudflareOptions['aopMode'];
  if (!['global', 'zone', 'hostname'].includes(aop)) throw new MtlsError('usage', `Unknown --aop ${aop} (global, zone or hostname).`);
  if (aop !== 'global' && (!values['pull-cert'] || !values['pull-key'])) {
    throw new MtlsError('usage', `--aop ${aop} needs --pull-cert and --pull-key (your origin-pull certificate and its key).`);
  }
  const minTls = values['min-tls'] as CloudflareOptions['minTlsVersion'];
  if (minTls && !['1.0', '1.1', '1.2', '1.3'].includes(minTls)) throw new MtlsError('usage', `--min-tls ${minTls} is not 1.0, 1.1, 1.2 or 1.3.`);
  if (values.origin && !['nginx', 'apache', 'caddy', 'haproxy'].includes(values.origin as string)) throw new MtlsError('usage', '--origin is nginx, apache, caddy or haproxy.');
  return {
    token, baseURL, zoneName, hostnames, caPem, caName: values['ca-name'], aopMode: aop,
    pullCertPem: values['pull-cert'] ? await read(values['pull-cert']) : undefined,
    pullKeyPem: values['pull-key'] ? await read(values['pull-key']) : undefined,
    pullCaPem: values['pull-ca'] ? await read(values['pull-ca']) : undefined,
    revokedFingerprints: values.revoked, pinIssuerSki: !!values['pin-issuer'], minTlsVersion: minTls,
    originServer: values.origin as 'nginx' | 'apache' | 'caddy' | 'haproxy' | undefined,
  };
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
    `Leg 1 (client -> Cloudflare): ${status.legs[1]}    Leg 2 (Cloudflare -> origin, AOP ${opts.aopMode}): ${status.legs[2]}`,
    '',
  ];
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
    for (const c of r.calls) out.push(`  ${c.ok ? 'ok    ' : 'FAILED'} ${c.step}: ${c.method} ${c.path}`);
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
