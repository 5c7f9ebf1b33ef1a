// A fake Cloudflare API for tests: an HTTP server on 127.0.0.1 that keeps state (upload a CA, then the
// list shows it), answers in Cloudflare's envelope ({success, errors, messages, result, result_info}),
// validates every request against test/fixtures/cloudflare/openapi-mtls-subset.json, records every
// request, requires the bearer token, and can deny permissions or inject errors.
//
// In tests:   const cf = await FakeCloudflare.start({ zoneName: 'example.com' });
//             new Cloudflare({ apiToken: cf.token, baseURL: cf.url }) ... cf.writes(), cf.invalidRequests()
// Standalone: node out/test/support/fakeCloudflare.js [--port N] [--token T] [--zone example.com]
//             prints the base URL (e.g. http://127.0.0.1:8787/client/v4) on its first line.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { AddressInfo } from 'net';
import { OpenApiValidator } from './fakeCloudflareOpenApi';
import { createRootCa, parseCsr, signCsr } from '../../src/core/pki/certs';
import type { CertAndKey } from '../../src/core/pki/types';

export const FAKE_TOKEN = 'fake-cloudflare-token-0123456789abcdef';
export const API_PREFIX = '/client/v4';

/** Token permissions; account- and zone-scoped "SSL and Certificates" are different permissions, as on Cloudflare. */
export type FakePermission =
  | 'Zone Read'
  | 'Account SSL and Certificates Read' | 'Account SSL and Certificates Write'
  | 'Zone SSL and Certificates Read' | 'Zone SSL and Certificates Write'
  | 'Zone Settings Read' | 'Zone Settings Write'
  | 'Zone WAF Read' | 'Zone WAF Write';

export const ALL_PERMISSIONS: FakePermission[] = ['Zone Read', 'Account SSL and Certificates Write', 'Zone SSL and Certificates Write', 'Zone Settings Write', 'Zone WAF Write'];

export interface RecordedRequest {
  method: string;
  /** Path below the API prefix, without the query string. */
  path: string;
  query: Record<string, string>;
  body?: unknown;
  /** Raw body when it was not JSON. */
  rawBody?: string;
  headers: Record<string, string | undefined>;
  /** The OpenAPI operation it matched. */
  operation?: string;
  validationErrors: string[];
  status: number;
  /** Cloudflare error codes in the answer, if any. */
  errorCodes: number[];
}

export interface FakeRule {
  id?: string;
  ref?: string;
  action: string;
  expression: string;
  description?: string;
  enabled?: boolean;
  version?: string;
  last_updated?: string;
  [k: string]: unknown;
}

export interface SeedZone {
  id?: string;
  name: string;
  /** Plan name, e.g. 'Enterprise Website' (default), 'Pro Website', 'Free Website'. */
  plan?: string;
}

/** The plan's legacy id as Cloudflare reports it (free, pro, business, enterprise). */
export function planLegacyId(plan: string): string {
  const m = /(free|pro|business|enterprise)/i.exec(plan);
  return m ? m[1].toLowerCase() : 'enterprise';
}

export interface FakeCloudflareOptions {
  /** Port to listen on (default: random). */
  port?: number;
  /** Accepted bearer token (default FAKE_TOKEN). */
  token?: string;
  /** Status of the token as /user/tokens/verify reports it (default active). */
  tokenStatus?: 'active' | 'disabled' | 'expired';
  /** The zone (default example.com) or several. */
  zoneName?: string;
  zones?: SeedZone[];
  accountId?: string;
  accountName?: string;
  /** Permissions the token has (default ALL_PERMISSIONS). Write implies Read. */
  permissions?: FakePermission[];
  /** Endpoints the token may not call at all (403, code 10000), on top of the permission groups. */
  deny?: { method?: string; pathPattern: string | RegExp }[];
  /** Existing CAs in the account's mTLS store. */
  mtlsCertificates?: { pem: string; name?: string; id?: string; ca?: boolean }[];
  /** Most CAs the account may hold (default 5, error 1489 past that). */
  caLimit?: number;
  /** Existing hostname associations: per CA id (undefined = Cloudflare-managed CA), in the first zone unless zoneId given. */
  hostnameAssociations?: { mtlsCertificateId?: string; hostnames: string[]; zoneId?: string }[];
  /** Existing rules in the zone's http_request_firewall_custom entrypoint (creates the entrypoint). */
  wafRules?: FakeRule[];
  /** Zone settings (default ssl flexible, min_tls_version 1.0, tls_client_auth off). */
  settings?: Record<string, unknown>;
  /** Cloudflare IP ranges returned by /ips. */
  ips?: { ipv4_cidrs: string[]; ipv6_cidrs: string[] };
  /** Zone-level AOP certificates start 'pending_deployment' (until activateZoneAopCertificates) instead of 'active'. */
  aopDeploymentPending?: boolean;
  /** Existing zone-level AOP certificates (cert + key PEM), active. */
  aopZoneCertificates?: { certificate: string; privateKey: string }[];
}

/** A client certificate signed by the zone's Cloudflare-managed CA. */
export interface ManagedClientCert {
  id: string; certificate: string; csr: string; common_name: string; status: 'active' | 'pending_reactivation' | 'pending_revocation' | 'revoked';
  serial_number: string; fingerprint_sha256: string; ski: string; issued_on: string; expires_on: string; validity_days: number;
  signature: string; certificate_authority: { id: string; name: string }; country: string; location: string; organization: string;
  organizational_unit: string; state: string;
}

export interface InjectedFailure {
  method?: string;
  /** Matched against the path below the API prefix (string: substring, RegExp: test). */
  pathPattern: string | RegExp;
  status: number;
  code?: number;
  message?: string;
  /** How many matching requests fail (default 1). */
  times?: number;
}

interface MtlsCert {
  id: string; name?: string; ca: boolean; certificates: string; issuer: string; serial_number: string; signature: string;
  expires_on: string; uploaded_on: string; updated_at: string; type: 'custom';
}
interface Ruleset {
  id: string; name: string; description: string; kind: string; phase: string; version: string; last_updated: string;
  rules: Required<Pick<FakeRule, 'id' | 'ref' | 'action' | 'expression' | 'version' | 'last_updated' | 'enabled'>>[] & FakeRule[];
}
interface AopCert {
  id: string; certificate: string; issuer: string; serial_number: string; signature: string; expires_on: string; uploaded_on: string;
  status: string; enabled?: boolean; private_key_fingerprint: string;
}
interface AopHostname { hostname: string; cert_id: string; enabled: boolean | null; status: string; created_at: string; updated_at: string }
interface ZoneState {
  id: string; name: string; plan: string;
  clientCerts: ManagedClientCert[];
  associations: Map<string, string[]>; // mtls cert id or '' (managed CA) -> hostnames
  rulesets: Ruleset[];
  settings: Record<string, { value: unknown; modified_on: string | null }>;
  aopZoneCerts: AopCert[];
  aopEnabled: boolean;
  aopHostCerts: AopCert[];
  aopHostnames: Map<string, AopHostname>;
}

const DEFAULT_IPS = {
  ipv4_cidrs: ['173.245.48.0/20', '103.21.244.0/22', '103.22.200.0/22', '103.31.4.0/22', '141.101.64.0/18', '108.162.192.0/18',
    '190.93.240.0/20', '188.114.96.0/20', '197.234.240.0/22', '198.41.128.0/17', '162.158.0.0/15', '104.16.0.0/13',
    '104.24.0.0/14', '172.64.0.0/13', '131.0.72.0/22'],
  ipv6_cidrs: ['2400:cb00::/32', '2606:4700::/32', '2803:f800::/32', '2405:b500::/32', '2405:8100::/32', '2a06:98c0::/29', '2c0f:f248::/32'],
};

function hex32(): string { return crypto.randomBytes(16).toString('hex'); }
function now(): string { return new Date().toISOString(); }

/** The fields Cloudflare derives from an uploaded certificate. */
export function certificateFields(pem: string) {
  const x = new crypto.X509Certificate(pem);
  return {
    issuer: x.issuer.split('\n').reverse().join(', '),
    serial_number: BigInt('0x' + x.serialNumber).toString(10),
    signature: signatureName(x),
    expires_on: new Date(x.validTo).toISOString(),
    ca: x.ca,
    fingerprint256: x.fingerprint256.replace(/:/g, '').toLowerCase(),
    publicKeyDer: x.publicKey.export({ type: 'spki', format: 'der' }) as Buffer,
  };
}

function signatureName(x: crypto.X509Certificate): string {
  // Node does not expose the signature algorithm; the key type and size are a fair stand-in.
  const t = x.publicKey.asymmetricKeyType;
  return t === 'ec' ? 'ECDSAWithSHA256' : t === 'ed25519' ? 'Ed25519' : 'SHA256WithRSA';
}

class HttpError {
  constructor(readonly status: number, readonly code: number, readonly message: string) {}
}

function permissionFor(method: string, p: string): FakePermission | undefined {
  const write = method !== 'GET';
  if (p === '/user/tokens/verify' || /^\/accounts\/[^/]+\/tokens\/verify$/.test(p) || p === '/ips') return undefined;
  if (p === '/zones') return 'Zone Read';
  if (/\/rulesets/.test(p)) return write ? 'Zone WAF Write' : 'Zone WAF Read';
  if (/^\/zones\/[^/]+\/settings\//.test(p)) return write ? 'Zone Settings Write' : 'Zone Settings Read';
  if (p.startsWith('/accounts/')) return write ? 'Account SSL and Certificates Write' : 'Account SSL and Certificates Read';
  return write ? 'Zone SSL and Certificates Write' : 'Zone SSL and Certificates Read';
}

function hasPermission(granted: Set<FakePermission>, needed: FakePermission): boolean {
  if (granted.has(needed)) return true;
  if (needed.endsWith(' Read')) return granted.has(needed.replace(/ Read$/, ' Write') as FakePermission);
  return false;
}

export class FakeCloudflare {
  readonly requests: RecordedRequest[] = [];
  token: string;
  tokenStatus: 'active' | 'disabled' | 'expired';
  readonly accountId: string;
  readonly accountName: string;
  readonly zones: ZoneState[] = [];
  readonly mtlsCertificates: MtlsCert[] = [];
  permissions: Set<FakePermission>;
  deny: { method?: string; pathPattern: string | RegExp }[];
  caLimit: number;
  ips: { ipv4_cidrs: string[]; ipv6_cidrs: string[] };
  private failures: InjectedFailure[] = [];
  private afterSuccess: InjectedFailure[] = [];
  private hangs: { method?: string; pathPattern: string | RegExp; times: number }[] = [];
  private aopDeploymentPending: boolean;
  /** The fake's own "Cloudflare-managed CA" (one per account, as on Cloudflare); its certificate is public for tests. */
  managedCa!: CertAndKey;
  readonly managedCaId = crypto.randomUUID();
  private server!: http.Server;
  private readonly validator: OpenApiValidator;
  /** Base URL to give the SDK, e.g. http://127.0.0.1:PORT/client/v4. */
  url = '';

  private constructor(opts: FakeCloudflareOptions) {
    this.token = opts.token ?? FAKE_TOKEN;
    this.tokenStatus = opts.tokenStatus ?? 'active';
    this.accountId = opts.accountId ?? hex32();
    this.accountName = opts.accountName ?? 'Example Account';
    this.permissions = new Set(opts.permissions ?? ALL_PERMISSIONS);
    this.deny = [...(opts.deny ?? [])];
    this.caLimit = opts.caLimit ?? 5;
    this.ips = opts.ips ?? DEFAULT_IPS;
    this.aopDeploymentPending = !!opts.aopDeploymentPending;
    this.validator = sharedValidator();
    const zones = opts.zones ?? [{ name: opts.zoneName ?? 'example.com' }];
    for (const z of zones) {
      this.zones.push({
        id: z.id ?? hex32(), name: z.name, plan: z.plan ?? 'Enterprise Website', clientCerts: [],
        associations: new Map(), rulesets: [],
        settings: {
          ssl: { value: 'flexible', modified_on: null },
          min_tls_version: { value: '1.0', modified_on: null },
          tls_client_auth: { value: 'off', modified_on: null },
        },
        aopZoneCerts: [], aopEnabled: false, aopHostCerts: [], aopHostnames: new Map(),
      });
    }
    for (const [k, v] of Object.entries(opts.settings ?? {})) this.zones[0].settings[k] = { value: v, modified_on: now() };
    for (const c of opts.mtlsCertificates ?? []) this.addMtlsCertificate(c.pem, c.name, c.id, c.ca);
    for (const a of opts.hostnameAssociations ?? []) {
      const zone = a.zoneId ? this.zones.find(z => z.id === a.zoneId)! : this.zones[0];
      zone.associations.set(a.mtlsCertificateId ?? '', [...a.hostnames]);
    }
    if (opts.wafRules) {
      const rs = this.createRuleset(this.zones[0], { name: 'default', kind: 'zone', phase: 'http_request_firewall_custom', description: '' });
      for (const r of opts.wafRules) this.addRule(rs, r);
    }
    for (const c of opts.aopZoneCertificates ?? []) this.zones[0].aopZoneCerts.push({ ...this.makeAopCert(c.certificate, c.privateKey, false), status: 'active' });
  }

  static async start(opts: FakeCloudflareOptions = {}): Promise<FakeCloudflare> {
    const fake = new FakeCloudflare(opts);
    fake.managedCa = await createRootCa({ cn: 'Fake Cloudflare Managed CA for account', key: 'ec-p256', days: 3650 });
    fake.server = http.createServer((req, res) => { void fake.handle(req, res); });
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = fake.server.address() as AddressInfo;
    fake.url = `http://127.0.0.1:${port}${API_PREFIX}`;
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  get zone(): ZoneState { return this.zones[0]; }

  // ---- inspection for tests ----------------------------------------------------------------------------

  /** Requests that changed (or tried to change) state: POST, PUT, PATCH, DELETE. */
  writes(): RecordedRequest[] { return this.requests.filter(r => r.method !== 'GET' && r.method !== 'HEAD'); }
  /** Requests that failed validation against the OpenAPI subset. */
  invalidRequests(): RecordedRequest[] { return this.requests.filter(r => r.validationErrors.length > 0); }
  clearRequests(): void { this.requests.length = 0; }

  /** The rules in the zone's custom-rules entrypoint. */
  wafRules(zoneId = this.zone.id): FakeRule[] {
    const z = this.zoneById(zoneId);
    return z?.rulesets.find(r => r.kind === 'zone' && r.phase === 'http_request_firewall_custom')?.rules ?? [];
  }
  associations(mtlsCertificateId: string | undefined, zoneId = this.zone.id): string[] {
    return this.zoneById(zoneId)?.associations.get(mtlsCertificateId ?? '') ?? [];
  }
  setting(id: string, zoneId = this.zone.id): unknown { return this.zoneById(zoneId)?.settings[id]?.value; }

  // ---- seeding and error injection ---------------------------------------------------------------------

  /** The managed CA's certificate (PEM), to verify issued certificates against. */
  get managedCaPem(): string { return this.managedCa.certPem; }
  /** The managed CA's client certificates in a zone. */
  clientCertificates(zoneId = this.zone.id): ManagedClientCert[] { return this.zoneById(zoneId)?.clientCerts ?? []; }
  /** Ends pending revocations (pending_revocation -> revoked), as Cloudflare does asynchronously. */
  settleRevocations(): void {
    for (const z of this.zones) for (const c of z.clientCerts) if (c.status === 'pending_revocation') c.status = 'revoked';
  }
  /** Zone-level AOP certificates: pending_deployment -> active. */
  activateZoneAopCertificates(): void {
    for (const z of this.zones) for (const c of z.aopZoneCerts) if (c.status === 'pending_deployment') c.status = 'active';
  }
  /** The matching requests (or `times` of them) are answered never: the socket stays open until close(). */
  hang(h: { method?: string; pathPattern: string | RegExp; times?: number }): void { this.hangs.push({ times: Infinity, ...h }); }
  /** The next matching request is carried out, and then answered with this failure (a lost answer). */
  failAfterSuccess(f: InjectedFailure): void { this.afterSuccess.push({ times: 1, ...f }); }

  /** The next matching request (or `times` requests) fails with this status and Cloudflare error. */
  failNext(f: InjectedFailure): void { this.failures.push({ times: 1, ...f }); }
  clearFailures(): void { this.failures = []; }
  setPermissions(p: FakePermission[]): void { this.permissions = new Set(p); }

  addMtlsCertificate(pem: string, name?: string, id?: string, ca = true): MtlsCert {
    const f = certificateFields(pem);
    const c: MtlsCert = {
      id: id ?? crypto.randomUUID(), name, ca, certificates: pem.trim() + '\n', issuer: f.issuer, serial_number: f.serial_number,
      signature: f.signature, expires_on: f.expires_on, uploaded_on: now(), updated_at: now(), type: 'custom',
    };
    this.mtlsCertificates.push(c);
    return c;
  }

  // ---- HTTP ----------------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const full = url.pathname;
    const p = full.startsWith(API_PREFIX) ? full.slice(API_PREFIX.length) || '/' : full;
    let body: unknown;
    let rawBody: string | undefined;
    if (raw.length) { try { body = JSON.parse(raw); } catch { rawBody = raw; } }
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k === 'authorization') headers[k] = typeof v === 'string' ? v.replace(/^(Bearer\s+).*/i, '$1<redacted>') : undefined;
      else headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const record: RecordedRequest = {
      method, path: p, query: Object.fromEntries(url.searchParams), body, rawBody, headers, validationErrors: [], status: 0, errorCodes: [],
    };
    this.requests.push(record);

    const send = (status: number, payload: unknown) => {
      record.status = status;
      const text = JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cf-ray': crypto.randomBytes(8).toString('hex') + '-FAKE' });
      res.end(text);
    };
    const fail = (e: HttpError) => {
      record.errorCodes = [e.code];
      send(e.status, { success: false, errors: [{ code: e.code, message: e.message }], messages: [], result: null });
    };

    try {
      if (!full.startsWith(API_PREFIX + '/') && full !== API_PREFIX) {
        record.validationErrors.push(`path ${full} is not below ${API_PREFIX}`);
        throw new HttpError(404, 7000, 'No route for that URI');
      }
      const check = this.validator.check(method, p, url.searchParams, raw.length ? raw : undefined, req.headers['content-type']);
      record.operation = check.operation ? `${check.operation.method} ${check.operation.template}` : undefined;
      record.validationErrors.push(...check.errors);
      if (!check.operation) throw new HttpError(404, 7000, 'No route for that URI');

      // GET /ips is public on the real API; everything else needs the bearer token.
      const auth = req.headers.authorization;
      const isPublic = p === '/ips' && method === 'GET';
      if (!isPublic && !auth) throw new HttpError(401, 10000, 'Authentication error');
      if (!isPublic && auth !== `Bearer ${this.token}`) throw new HttpError(401, 9109, 'Invalid access token');

      const hang = this.hangs.find(h => (!h.method || h.method.toUpperCase() === method) && matches(h.pathPattern, p));
      if (hang) {
        hang.times -= 1;
        if (hang.times <= 0) this.hangs.splice(this.hangs.indexOf(hang), 1);
        record.status = -1;
        return; // never answered
      }
      const injected = this.failures.find(f => (!f.method || f.method.toUpperCase() === method) && matches(f.pathPattern, p));
      if (injected) {
        injected.times = (injected.times ?? 1) - 1;
        if (injected.times <= 0) this.failures.splice(this.failures.indexOf(injected), 1);
        throw new HttpError(injected.status, injected.code ?? 1000, injected.message ?? 'Injected failure');
      }

      const needed = permissionFor(method, p);
      if (needed && !hasPermission(this.permissions, needed)) throw new HttpError(403, 10000, 'Authentication error');
      if (this.deny.some(d => (!d.method || d.method.toUpperCase() === method) && matches(d.pathPattern, p))) {
        throw new HttpError(403, 10000, 'Authentication error');
      }

      if (check.errors.length) throw new HttpError(400, 1001, `Invalid request: ${check.errors.join('; ')}`);

      const createClientCert = method === 'POST' && /^\/zones\/[^/]+\/client_certificates$/.test(p);
      const result = createClientCert
        ? { result: await this.signClientCertificate(this.requireZone(decodeURIComponent(p.split('/')[2])), (body as any)?.csr, (body as any)?.validity_days) }
        : this.route(method, p, url.searchParams, body as Record<string, any>);
      const lost = this.afterSuccess.find(f => (!f.method || f.method.toUpperCase() === method) && matches(f.pathPattern, p));
      if (lost) {
        lost.times = (lost.times ?? 1) - 1;
        if (lost.times <= 0) this.afterSuccess.splice(this.afterSuccess.indexOf(lost), 1);
        throw new HttpError(lost.status, lost.code ?? 1000, lost.message ?? 'Injected failure after the change was made');
      }
      send(200, { success: true, errors: [], messages: [], ...result });
    } catch (err) {
      if (err instanceof HttpError) fail(err);
      else fail(new HttpError(500, 1000, `Fake Cloudflare internal error: ${(err as Error).message}`));
    }
  }

  private zoneById(id: string): ZoneState | undefined { return this.zones.find(z => z.id === id); }
  private requireZone(id: string): ZoneState {
    const z = this.zoneById(id);
    if (!z) throw new HttpError(404, 1001, 'Invalid zone identifier');
    return z;
  }
  private requireAccount(id: string): void {
    if (id !== this.accountId) throw new HttpError(403, 9109, 'Unauthorized to access requested resource');
  }

  private route(method: string, p: string, q: URLSearchParams, body: Record<string, any>): { result: unknown; result_info?: unknown } {
    const seg = p.split('/').filter(Boolean).map(decodeURIComponent);
    const is = (m: string, pattern: string) => {
      if (m !== method) return false;
      const ps = pattern.split('/').filter(Boolean);
      return ps.length === seg.length && ps.every((s, i) => s.startsWith(':') || s === seg[i]);
    };

    // token verification
    if (is('GET', 'user/tokens/verify') || is('GET', 'accounts/:a/tokens/verify')) {
      if (seg[0] === 'accounts') this.requireAccount(seg[1]);
      return { result: { id: hex32(), status: this.tokenStatus, expires_on: undefined } };
    }
    if (is('GET', 'ips')) {
      return { result: { ...this.ips, etag: crypto.createHash('md5').update(JSON.stringify(this.ips)).digest('hex') } };
    }
    if (is('GET', 'zones')) {
      const name = q.get('name');
      const all = this.zones.filter(z => !name || z.name === name).map(z => this.zoneJson(z));
      return paged(all, q);
    }

    // account mTLS certificate store
    if (is('GET', 'accounts/:a/mtls_certificates')) {
      this.requireAccount(seg[1]);
      return { result: this.mtlsCertificates, result_info: { page: 1, per_page: 50, count: this.mtlsCertificates.length, total_count: this.mtlsCertificates.length, total_pages: 1 } };
    }
    if (is('POST', 'accounts/:a/mtls_certificates')) {
      this.requireAccount(seg[1]);
      let f: ReturnType<typeof certificateFields>;
      try { f = certificateFields(body.certificates); } catch { throw new HttpError(400, 1404, 'The certificate could not be parsed.'); }
      if (body.ca && !f.ca) throw new HttpError(400, 1418, 'The certificate is not a CA certificate (basicConstraints CA:TRUE is required).');
      if (body.ca && this.mtlsCertificates.filter(c => c.ca).length >= this.caLimit) {
        throw new HttpError(400, 1489, `You have reached the maximum number of CA certificates (${this.caLimit}) for this account.`);
      }
      return { result: this.addMtlsCertificate(body.certificates, body.name, undefined, !!body.ca) };
    }
    if (is('GET', 'accounts/:a/mtls_certificates/:id')) {
      this.requireAccount(seg[1]);
      return { result: this.requireMtls(seg[3]) };
    }
    if (is('DELETE', 'accounts/:a/mtls_certificates/:id')) {
      this.requireAccount(seg[1]);
      const c = this.requireMtls(seg[3]);
      if (this.zones.some(z => (z.associations.get(c.id) ?? []).length)) throw new HttpError(400, 1492, 'The certificate is in use by a hostname association.');
      this.mtlsCertificates.splice(this.mtlsCertificates.indexOf(c), 1);
      return { result: c };
    }
    if (is('GET', 'accounts/:a/mtls_certificates/:id/associations')) {
      this.requireAccount(seg[1]);
      const c = this.requireMtls(seg[3]);
      const used = this.zones.filter(z => (z.associations.get(c.id) ?? []).length).map(z => ({ service: 'ssl', status: 'active', zone: z.name }));
      return { result: used.map(u => ({ service: u.service, status: u.status })) };
    }

    // hostname associations
    if (is('GET', 'zones/:z/certificate_authorities/hostname_associations')) {
      const z = this.requireZone(seg[1]);
      const id = q.get('mtls_certificate_id') ?? '';
      if (id) this.requireMtls(id);
      return { result: { hostnames: z.associations.get(id) ?? [] } };
    }
    if (is('PUT', 'zones/:z/certificate_authorities/hostname_associations')) {
      const z = this.requireZone(seg[1]);
      const id: string = body.mtls_certificate_id ?? '';
      if (id) this.requireMtls(id);
      const hostnames: string[] = [...new Set<string>(body.hostnames ?? [])];
      for (const h of hostnames) {
        if (h !== z.name && !h.endsWith('.' + z.name)) throw new HttpError(400, 1491, `Hostname ${h} does not belong to zone ${z.name}.`);
      }
      z.associations.set(id, hostnames);
      return { result: { hostnames } };
    }

    // client certificates signed by the Cloudflare-managed CA
    if (is('GET', 'zones/:z/client_certificates')) {
      const z = this.requireZone(seg[1]);
      const status = q.get('status');
      return paged(z.clientCerts.filter(c => !status || status === 'all' || c.status === status), q);
    }
    if (is('GET', 'zones/:z/client_certificates/:id') || is('DELETE', 'zones/:z/client_certificates/:id') || is('PATCH', 'zones/:z/client_certificates/:id')) {
      const z = this.requireZone(seg[1]);
      const c = z.clientCerts.find(x => x.id === seg[3]);
      if (!c) throw new HttpError(404, 1100, 'Client certificate not found');
      if (method === 'DELETE' && c.status === 'active') c.status = 'pending_revocation';
      if (method === 'PATCH' && body.reactivate) {
        if (c.status === 'revoked') throw new HttpError(400, 1101, 'A revoked client certificate cannot be reactivated.');
        if (c.status === 'pending_revocation') c.status = 'active';
      }
      return { result: c };
    }

    // rulesets
    if (seg[0] === 'zones' && seg[2] === 'rulesets') return this.routeRulesets(method, seg, body);
    if (seg[0] === 'accounts' && seg[2] === 'rulesets') throw new HttpError(403, 10000, 'Authentication error');

    // zone settings
    if (is('GET', 'zones/:z/settings/:s') || is('PATCH', 'zones/:z/settings/:s')) {
      const z = this.requireZone(seg[1]);
      const id = seg[3];
      if (method === 'PATCH') {
        const allowed: Record<string, unknown[]> = {
          ssl: ['off', 'flexible', 'full', 'strict'], min_tls_version: ['1.0', '1.1', '1.2', '1.3'], tls_client_auth: ['on', 'off'],
        };
        if (allowed[id] && !allowed[id].includes(body.value)) throw new HttpError(400, 1007, `Invalid value for zone setting ${id}`);
        z.settings[id] = { value: body.value, modified_on: now() };
      }
      const s = z.settings[id];
      if (!s) throw new HttpError(404, 1003, `Setting ${id} not found`);
      return { result: { id, value: s.value, editable: true, modified_on: s.modified_on } };
    }

    // zone-level authenticated origin pulls
    if (is('GET', 'zones/:z/origin_tls_client_auth')) {
      const z = this.requireZone(seg[1]);
      return { result: z.aopZoneCerts.map(c => this.aopJson(c)) };
    }
    if (is('POST', 'zones/:z/origin_tls_client_auth')) {
      const z = this.requireZone(seg[1]);
      const c = this.makeAopCert(body.certificate, body.private_key, false);
      if (this.aopDeploymentPending) c.status = 'pending_deployment';
      z.aopZoneCerts.push(c);
      return { result: this.aopJson(c) };
    }
    if ((is('DELETE', 'zones/:z/origin_tls_client_auth/:id') || is('GET', 'zones/:z/origin_tls_client_auth/:id')) && seg[3] !== 'settings' && seg[3] !== 'hostnames') {
      const z = this.requireZone(seg[1]);
      const c = z.aopZoneCerts.find(x => x.id === seg[3]);
      if (!c) throw new HttpError(404, 1411, 'Certificate not found');
      if (method === 'DELETE') z.aopZoneCerts.splice(z.aopZoneCerts.indexOf(c), 1);
      return { result: this.aopJson(c) };
    }
    if (is('GET', 'zones/:z/origin_tls_client_auth/settings')) {
      return { result: { enabled: this.requireZone(seg[1]).aopEnabled } };
    }
    if (is('PUT', 'zones/:z/origin_tls_client_auth/settings')) {
      const z = this.requireZone(seg[1]);
      z.aopEnabled = !!body.enabled;
      return { result: { enabled: z.aopEnabled } };
    }
    if (is('GET', 'zones/:z/origin_tls_client_auth/hostnames/certificates')) {
      const z = this.requireZone(seg[1]);
      return { result: z.aopHostCerts.map(c => this.aopJson(c)) };
    }
    if (is('POST', 'zones/:z/origin_tls_client_auth/hostnames/certificates')) {
      const z = this.requireZone(seg[1]);
      if (z.aopHostCerts.length >= 10) throw new HttpError(400, 1413, 'A zone can have at most 10 per-hostname certificates.');
      const c = this.makeAopCert(body.certificate, body.private_key, true);
      z.aopHostCerts.push(c);
      return { result: this.aopJson(c) };
    }
    if (is('GET', 'zones/:z/origin_tls_client_auth/hostnames/certificates/:id')) {
      const z = this.requireZone(seg[1]);
      const c = z.aopHostCerts.find(x => x.id === seg[5]);
      if (!c) throw new HttpError(404, 1411, 'Certificate not found');
      return { result: this.aopJson(c) };
    }
    if (is('PUT', 'zones/:z/origin_tls_client_auth/hostnames')) {
      const z = this.requireZone(seg[1]);
      const out: unknown[] = [];
      for (const cfg of body.config as { hostname?: string; cert_id?: string; enabled?: boolean | null }[]) {
        if (!cfg.hostname || (cfg.hostname !== z.name && !cfg.hostname.endsWith('.' + z.name))) {
          throw new HttpError(400, 1402, `Hostname ${cfg.hostname} does not belong to zone ${z.name}.`);
        }
        const cert = z.aopHostCerts.find(c => c.id === cfg.cert_id);
        if (!cert) throw new HttpError(400, 1411, `Certificate ${cfg.cert_id} not found`);
        const prev = z.aopHostnames.get(cfg.hostname);
        const h: AopHostname = {
          hostname: cfg.hostname, cert_id: cert.id, enabled: cfg.enabled === undefined ? true : cfg.enabled,
          status: cfg.enabled === false ? 'pending_deactivation' : 'active', created_at: prev?.created_at ?? now(), updated_at: now(),
        };
        z.aopHostnames.set(cfg.hostname, h);
        out.push(this.aopHostnameJson(z, h));
      }
      return { result: out };
    }
    if (is('GET', 'zones/:z/origin_tls_client_auth/hostnames/:h')) {
      const z = this.requireZone(seg[1]);
      const h = z.aopHostnames.get(seg[4]);
      if (!h) throw new HttpError(404, 1410, `No authenticated origin pull configuration for ${seg[4]}`);
      return { result: this.aopHostnameJson(z, h) };
    }

    throw new HttpError(501, 1000, `The fake Cloudflare API does not implement ${method} ${p}`);
  }

  private routeRulesets(method: string, seg: string[], body: Record<string, any>): { result: unknown } {
    const z = this.requireZone(seg[1]);
    const rest = seg.slice(3);
    const entrypoint = (phase: string) => z.rulesets.find(r => r.kind === 'zone' && r.phase === phase);
    if (rest[0] === 'phases' && rest[2] === 'entrypoint') {
      const rs = entrypoint(rest[1]);
      if (method === 'GET') {
        if (!rs) throw new HttpError(404, 10003, `could not find entrypoint ruleset in the ${rest[1]} phase`);
        return { result: rs };
      }
      if (method === 'PUT') {
        const target = rs ?? this.createRuleset(z, { name: 'default', kind: 'zone', phase: rest[1], description: '' });
        target.rules = [];
        for (const r of body.rules ?? []) this.addRule(target, r);
        bump(target);
        return { result: target };
      }
    }
    if (rest.length === 0 && method === 'GET') return { result: z.rulesets.map(({ rules: _rules, ...r }) => r) };
    if (rest.length === 0 && method === 'POST') {
      if (body.kind === 'zone' && entrypoint(body.phase)) throw new HttpError(400, 20217, `a zone ruleset already exists in the ${body.phase} phase`);
      const rs = this.createRuleset(z, body as any);
      for (const r of body.rules ?? []) this.addRule(rs, r);
      return { result: rs };
    }
    const rs = z.rulesets.find(r => r.id === rest[0]);
    if (!rs) throw new HttpError(404, 10003, 'could not find ruleset');
    if (rest.length === 1 && method === 'GET') return { result: rs };
    if (rest[1] === 'rules' && rest.length === 2 && method === 'POST') {
      this.addRule(rs, body as FakeRule);
      bump(rs);
      return { result: rs };
    }
    if (rest[1] === 'rules' && rest.length === 3) {
      const i = rs.rules.findIndex(r => r.id === rest[2]);
      if (i < 0) throw new HttpError(404, 10003, 'could not find rule');
      if (method === 'PATCH') {
        const r = rs.rules[i];
        if (body.ref && body.ref !== r.ref && rs.rules.some(x => x.ref === body.ref)) throw new HttpError(400, 20101, 'duplicate rule ref');
        Object.assign(r, body, { id: r.id, version: String(Number(r.version) + 1), last_updated: now() });
        bump(rs);
        return { result: rs };
      }
      if (method === 'DELETE') {
        rs.rules.splice(i, 1);
        bump(rs);
        return { result: rs };
      }
    }
    throw new HttpError(501, 1000, `The fake Cloudflare API does not implement ${method} /${seg.join('/')}`);
  }

  private createRuleset(z: ZoneState, b: { name: string; kind: string; phase: string; description?: string }): Ruleset {
    const rs: Ruleset = { id: hex32(), name: b.name, description: b.description ?? '', kind: b.kind, phase: b.phase, version: '1', last_updated: now(), rules: [] as any };
    z.rulesets.push(rs);
    return rs;
  }

  private addRule(rs: Ruleset, r: FakeRule): void {
    const id = r.id ?? hex32();
    const ref = r.ref ?? id;
    if (rs.rules.some(x => x.ref === ref)) throw new HttpError(400, 20101, `a rule with ref ${ref} already exists in the ruleset`);
    if (!r.expression) throw new HttpError(400, 20100, 'rule expression is required');
    rs.rules.push({ ...r, id, ref, enabled: r.enabled ?? true, version: '1', last_updated: now() } as any);
  }

  private async signClientCertificate(z: ZoneState, csr: string, days: number): Promise<ManagedClientCert> {
    let info: ReturnType<typeof parseCsr>;
    try { info = parseCsr(csr, 'csr'); } catch { throw new HttpError(400, 1102, 'The CSR could not be parsed.'); }
    if (!info.signatureValid) throw new HttpError(400, 1102, 'The CSR signature is not valid.');
    if (!Number.isInteger(days) || days < 1 || days > 3650) throw new HttpError(400, 1103, 'validity_days must be from 1 to 3650.');
    const pending = { id: hex32() } as ManagedClientCert;
    const certPem = await signCsr(this.managedCa, csr, { days, profile: 'client' });
    const x = new crypto.X509Certificate(certPem);
    Object.assign(pending, {
      certificate: certPem, csr, common_name: info.subjectCn ?? '', status: 'active', serial_number: x.serialNumber,
      fingerprint_sha256: x.fingerprint256.replace(/:/g, '').toLowerCase(), ski: crypto.createHash('sha1').update(x.publicKey.export({ type: 'spki', format: 'der' })).digest('hex'),
      issued_on: new Date(x.validFrom).toISOString(), expires_on: new Date(x.validTo).toISOString(), validity_days: days, signature: signatureName(x),
      certificate_authority: { id: this.managedCaId, name: 'Cloudflare Managed CA for account' }, country: '', location: '', organization: '',
      organizational_unit: '', state: '',
    });
    z.clientCerts.push(pending);
    return pending;
  }

  private requireMtls(id: string): MtlsCert {
    const c = this.mtlsCertificates.find(x => x.id === id);
    if (!c) throw new HttpError(404, 1405, `mTLS certificate ${id} not found`);
    return c;
  }

  private makeAopCert(certificate: string, privateKey: string, leafOnly: boolean): AopCert {
    let f: ReturnType<typeof certificateFields>;
    try { f = certificateFields(certificate); } catch { throw new HttpError(400, 1404, 'The certificate could not be parsed.'); }
    if (leafOnly && f.ca) throw new HttpError(400, 1412, 'The certificate is a CA certificate. Per-hostname authenticated origin pulls accept only leaf certificates.');
    let key: crypto.KeyObject;
    try { key = crypto.createPrivateKey(privateKey); } catch { throw new HttpError(400, 1406, 'The private key could not be parsed.'); }
    const pub = crypto.createPublicKey(key).export({ type: 'spki', format: 'der' }) as Buffer;
    if (!pub.equals(f.publicKeyDer)) throw new HttpError(400, 1407, 'The private key does not match the certificate.');
    return {
      id: hex32(), certificate: certificate.trim() + '\n', issuer: f.issuer, serial_number: f.serial_number, signature: f.signature,
      expires_on: f.expires_on, uploaded_on: now(), status: 'active', enabled: true,
      private_key_fingerprint: crypto.createHash('sha256').update(pub).digest('hex'),
    };
  }

  private aopJson(c: AopCert) {
    const { private_key_fingerprint: _k, ...rest } = c;
    return rest;
  }

  private aopHostnameJson(z: ZoneState, h: AopHostname) {
    const c = z.aopHostCerts.find(x => x.id === h.cert_id);
    return {
      hostname: h.hostname, cert_id: h.cert_id, enabled: h.enabled, status: h.status, created_at: h.created_at, updated_at: h.updated_at,
      cert_status: c?.status, certificate: c?.certificate, expires_on: c?.expires_on, issuer: c?.issuer, serial_number: c?.serial_number,
      signature: c?.signature, cert_uploaded_on: c?.uploaded_on, cert_updated_at: c?.uploaded_on,
    };
  }

  private zoneJson(z: ZoneState) {
    return {
      id: z.id, name: z.name, status: 'active', paused: false, type: 'full', development_mode: 0,
      account: { id: this.accountId, name: this.accountName },
      plan: { id: hex32(), name: z.plan, is_subscribed: true, can_subscribe: false, legacy_id: planLegacyId(z.plan) },
      name_servers: ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com'], original_name_servers: null, original_registrar: null,
      original_dnshost: null, created_on: '2024-01-01T00:00:00Z', modified_on: now(), activated_on: '2024-01-01T00:00:00Z',
      meta: { step: 4, custom_certificate_quota: 1, page_rule_quota: 100, phishing_detected: false },
      owner: { id: null, type: 'user', email: null }, permissions: ['#zone:read', '#ssl:edit', '#waf:edit', '#zone_settings:edit'],
    };
  }
}

function matches(pattern: string | RegExp, p: string): boolean {
  return typeof pattern === 'string' ? p.includes(pattern) : pattern.test(p);
}

function bump(rs: Ruleset): void {
  rs.version = String(Number(rs.version) + 1);
  rs.last_updated = now();
}

function paged(items: unknown[], q: URLSearchParams): { result: unknown[]; result_info: unknown } {
  const perPage = Number(q.get('per_page') ?? 20);
  const page = Number(q.get('page') ?? 1);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  return { result: slice, result_info: { page, per_page: perPage, count: slice.length, total_count: items.length, total_pages: Math.ceil(items.length / perPage) } };
}

let validatorCache: OpenApiValidator | undefined;
/** Compiling the schemas takes a second or two: once per process. */
function sharedValidator(): OpenApiValidator {
  validatorCache ??= new OpenApiValidator(loadSpec());
  return validatorCache;
}

let specCache: unknown;
/** The OpenAPI subset, found from the source tree or from out/ (compiled tests). */
export function loadSpec(): any {
  if (specCache) return specCache;
  const candidates = [
    path.join(__dirname, '../fixtures/cloudflare/openapi-mtls-subset.json'),
    path.join(__dirname, '../../../test/fixtures/cloudflare/openapi-mtls-subset.json'),
    path.join(process.cwd(), 'test/fixtures/cloudflare/openapi-mtls-subset.json'),
  ];
  const file = candidates.find(f => fs.existsSync(f));
  if (!file) throw new Error(`openapi-mtls-subset.json not found (looked in ${candidates.join(', ')})`);
  specCache = JSON.parse(fs.readFileSync(file, 'utf8'));
  return specCache;
}

// Standalone: node out/test/support/fakeCloudflare.js --port 8787 [--token T] [--zone example.com]
if (require.main === module) {
  const args = process.argv.slice(2);
  const arg = (name: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
  FakeCloudflare.start({ port: arg('port') ? Number(arg('port')) : undefined, token: arg('token'), zoneName: arg('zone') }).then(fake => {
    process.stdout.write(`${fake.url}\n`);
    process.stdout.write(`token: ${fake.token}\nzone: ${fake.zone.name} (${fake.zone.id}), account ${fake.accountId}\n`);
    const stop = () => { void fake.close().then(() => process.exit(0)); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }, err => { process.stderr.write(`fakeCloudflare: ${(err as Error).message}\n`); process.exit(1); });
}
