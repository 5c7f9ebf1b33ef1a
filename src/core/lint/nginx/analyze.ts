// nginx: includes, inheritance (http -> server -> location) and the Leg 2 rules.
// The conditions mirror nginx 1.22's ngx_http_ssl_module (merge_srv_conf / ngx_http_ssl_init), checked
// against `nginx -t` in test/unit/lint/agreement.test.ts.
import * as path from 'path';
import { Directive, Finding, NginxDirective, ParsedFile } from '../types';
import { blockIgnores, blockRef, finding, IgnoreSet, isIgnored, isLeg2, LazyIgnores, LintContext, loadParsedFile, memo, readCa, ref, reportSkipped, serverNameMatches } from '../common';
import { judgeCaFile, neededDepth } from '../ca';
import { parseNginx } from './parser';
import { serverCaPath } from '../serverCa';
import { resolvePattern, Skipped } from '../paths';

const VERIFY_VALUES = ['on', 'off', 'optional', 'optional_no_ca'];
const MAX_INCLUDE_DEPTH = 32;

function nginxBases(ctx: LintContext, includer: string): string[] {
  const rootDir = path.dirname(ctx.rootFile);
  const bases: string[] = [];
  if (ctx.settings.nginxPrefix) bases.push(ctx.settings.nginxPrefix);
  bases.push(rootDir);
  // A server-block file linted on its own (sites-enabled/x, conf.d/x.conf) includes paths relative to
  // the nginx prefix, its parent folder.
  if (/^(sites-(available|enabled)|conf\.d|snippets|vhosts?(\.d)?|servers|http\.d|stream\.d)$/i.test(path.basename(rootDir))) bases.push(path.dirname(rootDir));
  bases.push(path.dirname(includer));
  if (ctx.settings.workspaceRoot) bases.push(ctx.settings.workspaceRoot);
  return bases;
}

export function loadNginxFile(ctx: LintContext, file: string, from?: Directive): ParsedFile | undefined {
  return loadParsedFile(ctx, file, parseNginx, from);
}

/** Follows `include` directives (globs allowed), attaching the parsed files to them. */
function expandIncludes(ctx: LintContext, pf: ParsedFile, stack: string[]): void {
  const walk = (ds: Directive[]) => {
    for (const d of ds) {
      if (d.block) walk(d.block);
      if (d.name !== 'include' || d.args.length !== 1 || d.block) continue;
      if (Date.now() > ctx.deadline) { ctx.timedOut = true; return; }
      const pattern = d.args[0].value;
      const skipped: Skipped[] = [];
      const files = ctx.options.resolveInclude
        ? safeResolve(() => ctx.options.resolveInclude!(pattern, d.file, 'nginx'))
        : resolvePattern(pattern, nginxBases(ctx, d.file), ctx.fs, 'drop', skipped).files;
      reportSkipped(ctx, d, skipped);
      d.included = [];
      for (const f of files) {
        if (stack.includes(f) || stack.length > MAX_INCLUDE_DEPTH) continue; // nginx would recurse forever
        const inc = loadNginxFile(ctx, f, d);
        if (!inc) continue;
        d.included.push(inc);
        if (!(inc as { expanded?: boolean }).expanded) {
          (inc as { expanded?: boolean }).expanded = true;
          expandIncludes(ctx, inc, [...stack, f]);
        }
      }
    }
  };
  walk(pf.directives);
}

function safeResolve(fn: () => string[]): string[] {
  try { return fn() ?? []; } catch { return []; }
}

function isInclude(d: Directive): boolean {
  return d.name === 'include' && !!d.included && !d.block;
}

/**
 * Directives of a block with includes replaced by the included files' directives. Each file is inlined
 * once per block (a second include of it, or an include cycle, adds nothing), so a folder of files that
 * include each other by glob stays linear. Iterative: no recursion however deep the includes go.
 */
export function flat(ds: Directive[] | undefined): NginxDirective[] {
  if (!ds) return [];
  // Most blocks include nothing: hand back the block itself instead of a copy.
  let hasInclude = false;
  for (const d of ds) if (isInclude(d)) { hasInclude = true; break; }
  if (!hasInclude) return ds as NginxDirective[];
  const out: NginxDirective[] = [];
  const seen = new Set<ParsedFile>();
  const stack: { ds: Directive[]; i: number }[] = [{ ds, i: 0 }];
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top.i >= top.ds.length) { stack.pop(); continue; }
    const d = top.ds[top.i++];
    if (!isInclude(d)) { out.push(d as NginxDirective); continue; }
    const files = d.included!.filter(pf => !seen.has(pf));
    for (const pf of files) seen.add(pf);
    for (let k = files.length - 1; k >= 0; k--) stack.push({ ds: files[k].directives, i: 0 });
  }
  return out;
}

interface Scope {
  listens: NginxDirective[];
  names: string[];
  sslOn?: NginxDirective;
  sslOff?: NginxDirective;
  certs: NginxDirective[];
  keys: NginxDirective[];
  verify?: NginxDirective;
  clientCa?: NginxDirective;
  trusted?: NginxDirective;
  depth?: NginxDirective;
  reject?: NginxDirective;
  lastTls?: NginxDirective;
}

function collect(ds: NginxDirective[], rootFile?: string): Scope {
  const s: Scope = { listens: [], names: [], certs: [], keys: [] };
  for (const d of ds) {
    switch (d.name) {
      case 'listen': s.listens.push(d); break;
      case 'server_name': s.names.push(...d.args.map(a => a.value)); break;
      case 'ssl':
        if (d.args[0]?.value === 'on') { s.sslOn = d; s.sslOff = undefined; } else if (d.args[0]?.value === 'off') { s.sslOff = d; s.sslOn = undefined; }
        break;
      case 'ssl_certificate': s.certs.push(d); break;
      case 'ssl_certificate_key': s.keys.push(d); break;
      case 'ssl_verify_client': s.verify = d; break;
      case 'ssl_client_certificate': s.clientCa = d; break;
      case 'ssl_trusted_certificate': s.trusted = d; break;
      case 'ssl_verify_depth': s.depth = d; break;
      case 'ssl_reject_handshake': s.reject = d.args[0]?.value === 'on' ? d : undefined; break;
    }
    if (d.name.startsWith('ssl_') && (rootFile === undefined || d.file === rootFile)) s.lastTls = d;
  }
  return s;
}

function argsText(d: Directive): string {
  return d.args.map(a => a.value).join(' ');
}

function resolveSslPath(ctx: LintContext, written: string, from: string): { resolved: string; exists: boolean } {
  return memo(ctx, `ngxpath\0${written}\0${path.dirname(from)}`, () => resolveSslPathUncached(ctx, written, from));
}

function resolveSslPathUncached(ctx: LintContext, written: string, from: string): { resolved: string; exists: boolean } {
  const rootDir = path.dirname(ctx.rootFile);
  const bases = [ctx.settings.nginxPrefix ?? '', rootDir];
  if (/^(sites-(available|enabled)|conf\.d)$/i.test(path.basename(rootDir))) bases.push(path.dirname(rootDir));
  bases.push(path.dirname(from));
  if (ctx.settings.workspaceRoot) bases.push(ctx.settings.workspaceRoot);
  const r = resolvePattern(written.replace(/([*?[])/g, '\\$1'), bases, ctx.fs, 'drop');
  // resolvePattern treats glob characters specially; CA paths never contain them in practice.
  if (r.files.length) return { resolved: r.files[0], exists: true };
  return { resolved: r.natural, exists: false };
}

/**
 * The http-level directives (not servers, not includes) of the main nginx.conf that a standalone server
 * file probably belongs to: <prefix>/nginx.conf, or nginx.conf in the file's folder or its parent.
 */
function parentHttpDirectives(ctx: LintContext, file: string): NginxDirective[] {
  const dir = path.dirname(file);
  const candidates = [ctx.settings.nginxPrefix ? path.join(ctx.settings.nginxPrefix, 'nginx.conf') : '', path.join(dir, 'nginx.conf'), path.join(path.dirname(dir), 'nginx.conf')];
  for (const c of candidates) {
    if (!c || c === file) continue;
    const text = ctx.fs.readFile(c);
    if (text === undefined) continue;
    const pf = parseNginx(text, c, { deadline: ctx.deadline });
    const http = pf.directives.find(d => d.name === 'http' && d.block);
    if (!http) continue;
    if (!ctx.texts.has(c)) ctx.texts.set(c, text); // for the positions of findings on these directives
    return (http.block as NginxDirective[]).filter(d => d.name !== 'server' && d.name !== 'include' && d.name.startsWith('ssl'));
  }
  return [];
}

/** Lints an nginx tree rooted at `root` (already parsed and registered in ctx). */
export function lintNginx(ctx: LintContext, root: ParsedFile): void {
  expandIncludes(ctx, root, [root.file]);
  const top = flat(root.directives);
  const hasMain = top.some(d => d.name === 'http' || d.name === 'events' || d.name === 'stream' || d.name === 'mail');
  const done = new Set<string>();
  const emit = (f: Finding, ignored: IgnoreSet, names: string[]) => {
    if (isIgnored(f.code, ignored)) return;
    if (isLeg2(f.code) && names.some(n => (ctx.settings.ignoreServerNames ?? []).some(p => serverNameMatches(n, p)))) return;
    const key = `${f.file}:${f.line}:${f.column}:${f.code}:${f.data?.caProblem ?? ''}`;
    if (done.has(key)) return;
    done.add(key);
    ctx.findings.push(f);
  };

  // Values and places nginx refuses, wherever they are (nginx -t fails even for plain-HTTP servers).
  const checkPlaces = (ds: NginxDirective[], where: 'main' | 'http' | 'server' | 'location' | 'other', ignored: IgnoreSet, names: string[]) => {
    for (const d of ds) {
      if (d.name === 'ssl_verify_client') {
        const v = d.args[0]?.value;
        if (d.args.length !== 1 || !VERIFY_VALUES.includes(v)) {
          const suggested = v === 'require' || v === 'required' || v === 'yes' || v === 'true' || v === 'always' ? 'on' : v === 'none' || v === 'no' || v === 'false' ? 'off' : 'on';
          const msg = d.args.length !== 1
            ? `ssl_verify_client takes exactly one value (on | off | optional | optional_no_ca); nginx -t fails with "invalid number of arguments".`
            : `"${v}" is not a value of ssl_verify_client: nginx -t fails with "invalid value". Use on (require a valid client certificate), optional, optional_no_ca or off${v === 'require' ? ' — "require" is the Apache spelling (SSLVerifyClient require); nginx says "on"' : ''}.`;
          emit(finding(d.file, d.args[0] ?? d.nameRange, 'error', 'leg2-invalid-value', msg, { dialect: 'nginx', directive: ref(ctx, d), validValues: [suggested, ...VERIFY_VALUES.filter(x => x !== suggested)], suggestedValue: suggested }), ignored, names);
        }
      }
      if ((d.name === 'ssl_verify_client' || d.name === 'ssl_client_certificate' || d.name === 'ssl_verify_depth' || d.name === 'ssl_certificate') && (where === 'location' || where === 'main')) {
        emit(finding(d.file, d.nameRange, 'error', 'leg2-invalid-value', `${d.name} is not allowed ${where === 'main' ? 'outside the http block' : 'inside a location or if block'}: nginx -t fails with "directive is not allowed here". Client verification is set per server (or for all servers in http); to require certificates for one path only, use ssl_verify_client optional in the server plus a check of $ssl_client_verify in that location.`, { dialect: 'nginx', directive: ref(ctx, d) }), ignored, names);
      }
      if (d.block && !d.rawBlock) {
        const inner = d.name === 'http' ? 'http' : d.name === 'server' && where === 'http' ? 'server' : (d.name === 'location' || d.name === 'if' || d.name === 'limit_except') && (where === 'server' || where === 'location') ? 'location' : 'other';
        if (d.name === 'server' && where === 'http') continue; // servers are checked with their own ignores below
        checkPlaces(flat(d.block), inner, ignored, names);
      }
    }
  };

  const http = hasMain ? top.filter(d => d.name === 'http' && d.block) : [];
  checkPlaces(top.filter(d => !(hasMain && d.name === 'http')), hasMain ? 'main' : 'http', new Set(), []);
  const httpScopes: { dirs: NginxDirective[] }[] = hasMain ? http.map(h => ({ dirs: flat(h.block) })) : [{ dirs: top }];
  for (const h of httpScopes) {
    if (hasMain) checkPlaces(h.dirs.filter(d => d.name !== 'server'), 'http', new Set(), []);
    // A server file linted on its own (sites-enabled/x) inherits from the http block of the main
    // nginx.conf next to it: take that block's own settings (ssl_certificate, ssl_verify_client, ...).
    const inherited = hasMain ? [] : parentHttpDirectives(ctx, root.file);
    const hs = collect([...inherited, ...h.dirs.filter(d => d.name !== 'server')]);
    // `map $ssl_client_verify $var { ... }` at http level: $var stands for the check.
    const checkVars = new Set<string>(['$ssl_client_verify']);
    for (const d of h.dirs) if (d.name === 'map' && d.args.length >= 2 && d.args[0].value.includes('$ssl_client_verify')) checkVars.add(d.args[1].value);
    for (const server of h.dirs) {
      if (server.name !== 'server' || !server.block) continue;
      if (Date.now() > ctx.deadline) { ctx.timedOut = true; return; }
      lintServer(ctx, server, hs, checkVars, emit, checkPlaces);
    }
  }
}

function lintServer(
  ctx: LintContext,
  server: NginxDirective,
  hs: Scope,
  checkVars: Set<string>,
  emit: (f: Finding, ignored: IgnoreSet, names: string[]) => void,
  checkPlaces: (ds: NginxDirective[], where: 'main' | 'http' | 'server' | 'location' | 'other', ignored: IgnoreSet, names: string[]) => void,
): void {
  const dirs = flat(server.block);
  const s = collect(dirs, server.file);
  const ignored = new LazyIgnores(() => blockIgnores(ctx, server));
  const names = s.names;
  checkPlaces(dirs, 'server', ignored, names);
  const listenSsl = s.listens.find(l => l.args.slice(1).some(a => a.value === 'ssl' || a.value === 'quic'));
  const sslOn = s.sslOn ?? (s.sslOff ? undefined : hs.sslOn);
  const tls = !!listenSsl || !!sslOn;
  const certs = s.certs.length ? s.certs : hs.certs;
  const keys = s.keys.length ? s.keys : hs.keys;
  const reject = s.reject ?? hs.reject;
  const verify = s.verify ?? hs.verify;
  const clientCa = s.clientCa ?? hs.clientCa;
  const trusted = s.trusted ?? hs.trusted;
  const depthDir = s.depth ?? hs.depth;
  const sslEnabled = tls || certs.length > 0 || !!reject;
  const anchor = listenSsl ?? sslOn ?? server;
  const anchorRange = anchor === server ? server.nameRange : anchor;
  let block: ReturnType<typeof blockRef> | undefined;
  const blk = () => (block ??= blockRef(ctx, server, 'server', names, s.listens.map(l => l.args[0]?.value ?? ''), s.lastTls));

  // tls-no-certificate (nginx: no "ssl_certificate" is defined for the "listen ... ssl" directive)
  if (tls && !reject && certs.length === 0) {
    emit(finding(anchor.file, anchorRange, 'error', 'tls-no-certificate',
      `This TLS server has no ssl_certificate, so nginx -t fails (no "ssl_certificate" is defined for the "${listenSsl ? 'listen ... ssl' : 'ssl'}" directive). Add the origin certificate and its key: ssl_certificate and ssl_certificate_key.`,
      { dialect: 'nginx', block: blk(), directive: ref(ctx, anchor), suggestedDirectives: ['ssl_certificate /etc/ssl/origin.pem;', 'ssl_certificate_key /etc/ssl/origin.key;'] }), ignored, names);
  } else if (sslEnabled && certs.length > keys.length) {
    const c = certs[keys.length];
    emit(finding(c.file, c, 'error', 'tls-no-certificate',
      `No ssl_certificate_key for the certificate "${c.args[0]?.value ?? ''}": nginx -t fails (no "ssl_certificate_key" is defined for certificate). Add ssl_certificate_key with the certificate's private key.`,
      { dialect: 'nginx', block: blk(), directive: ref(ctx, c), suggestedDirectives: ['ssl_certificate_key /etc/ssl/origin.key;'] }), ignored, names);
  }
  if (!sslEnabled) return; // plain HTTP: nginx does not look at the client-verification settings
  if (reject && certs.length === 0) return; // every handshake is rejected: nothing is served here

  const mode = verify && verify.args.length === 1 && VERIFY_VALUES.includes(verify.args[0].value) ? verify.args[0].value : verify ? 'invalid' : 'absent';
  if (mode === 'invalid') return; // reported above; the rest depends on a valid value
  const verifying = mode === 'on' || mode === 'optional' || mode === 'optional_no_ca';

  // leg2-no-ca (nginx: no ssl_client_certificate for ssl_verify_client)
  if ((mode === 'on' || mode === 'optional') && !clientCa) {
    const extra = trusted ? ` The CA in ssl_trusted_certificate (${trusted.args[0]?.value}) is not enough: move it to ssl_client_certificate.` : '';
    emit(finding(verify!.file, verify!.args[0], 'error', 'leg2-no-ca',
      `ssl_verify_client ${mode} without ssl_client_certificate: nginx -t fails (no ssl_client_certificate for ssl_verify_client), since there is no CA to verify Cloudflare's client certificate against. Add ssl_client_certificate with the origin-pull CA (or your own AOP CA).${extra}`,
      { dialect: 'nginx', block: blk(), directive: ref(ctx, verify!), verifyClient: ref(ctx, verify!), trustedCa: trusted ? ref(ctx, trusted) : undefined, caPath: trusted?.args[0]?.value, suggestedDirectives: [`ssl_client_certificate ${trusted?.args[0]?.raw ?? serverCaPath('nginx', ctx.settings.serverCaPath)};`] }), ignored, names);
  }

  // leg2-trusted-not-sent
  if (trusted && !clientCa && trusted.args[0]) {
    const t = resolveSslPath(ctx, trusted.args[0].value, trusted.file);
    const a = t.exists && ctx.settings.checkCaFiles !== false ? readCa(ctx, t.resolved) : undefined;
    const looksLikeAop = !!a && a.certs.some(c => /origin-pull|Cloudflare/i.test(c.subject));
    if (verifying || looksLikeAop) {
      emit(finding(trusted.file, trusted, 'information', 'leg2-trusted-not-sent',
        `The CA is only in ssl_trusted_certificate: nginx does not announce it to clients and refuses ssl_verify_client on|optional without ssl_client_certificate. For Leg 2 put the origin-pull CA in ssl_client_certificate instead.`,
        { dialect: 'nginx', block: blk(), directive: ref(ctx, trusted), trustedCa: ref(ctx, trusted), verifyClient: verify ? ref(ctx, verify) : undefined, caPath: trusted.args[0].value, caPathResolved: t.resolved, suggestedDirectives: [`ssl_client_certificate ${trusted.args[0].raw};`] }), ignored, names);
    }
  }

  // leg2-ca-file (nginx loads the CA only when verification is on)
  let caAnalysis: ReturnType<typeof readCa>;
  if (verifying && clientCa && clientCa.args[0] && ctx.settings.checkCaFiles !== false) {
    const written = clientCa.args[0].value;
    if (!written.includes('$')) {
      const r = resolveSslPath(ctx, written, clientCa.file);
      caAnalysis = r.exists ? readCa(ctx, r.resolved) : undefined;
      for (const v of memo(ctx, `verdict\0${r.resolved}\0${written}`, () => judgeCaFile(caAnalysis, ctx.now, written))) {
        let sev = v.severity;
        let msg = v.message;
        if (v.problem === 'missing' && path.isAbsolute(written) && !ctx.fs.isDirectory(path.dirname(written))) {
          sev = 'warning';
          msg = `The client CA file ${written} is not on this machine (its folder does not exist either), so it was not checked. nginx refuses to start if it is missing on the server.`;
        }
        emit(finding(clientCa.file, clientCa.args[0], sev, 'leg2-ca-file', msg,
          { dialect: 'nginx', block: blk(), directive: ref(ctx, clientCa), clientCa: ref(ctx, clientCa), verifyClient: verify ? ref(ctx, verify) : undefined, caPath: written, caPathResolved: r.resolved, caProblem: v.problem, caSubject: v.subject, caFingerprint256: v.fingerprint256, caNotAfter: v.notAfter }), ignored, names);
      }
    }
  }

  if (!tls) return; // Leg 2 advice is for servers that actually speak TLS
  // Catch-all servers that refuse every handshake or every request serve nobody: nothing is open there.
  if (reject || refusesEverything(dirs)) return;

  // leg2-no-client-auth
  if (mode === 'absent' || mode === 'off') {
    const why = mode === 'off' ? 'ssl_verify_client is off' : 'there is no ssl_verify_client';
    const dirsToAdd = clientCa ? ['ssl_verify_client on;'] : [`ssl_client_certificate ${serverCaPath('nginx', ctx.settings.serverCaPath)};`, 'ssl_verify_client on;'];
    emit(finding(anchor.file, anchorRange, 'warning', 'leg2-no-client-auth',
      `This TLS server does not require a client certificate (${why}), so Leg 2 is open: anyone who reaches the origin directly bypasses Cloudflare. Require Cloudflare's certificate: ${dirsToAdd.join(' ')} — or add "# mtls-lint: ignore leg2-no-client-auth" if this site is not behind Cloudflare.`,
      { dialect: 'nginx', block: blk(), directive: ref(ctx, anchor), verifyClient: verify ? ref(ctx, verify) : undefined, clientCa: clientCa ? ref(ctx, clientCa) : undefined, trustedCa: trusted ? ref(ctx, trusted) : undefined, suggestedValue: 'on', suggestedDirectives: dirsToAdd }), ignored, names);
    return;
  }

  // leg2-optional-unchecked
  if (mode === 'optional' || mode === 'optional_no_ca') {
    const check = findCheck(dirs, checkVars);
    if (check.kind !== 'checked') {
      const base = `ssl_verify_client ${mode} lets clients without a valid certificate through`;
      let msg: string;
      let sev: 'warning' | 'information' = 'warning';
      if (check.kind === 'forwarded') {
        sev = 'information';
        msg = `${base}; $ssl_client_verify is only passed on to the backend (${check.where}). Make sure the backend rejects anything but SUCCESS, or check it here: if ($ssl_client_verify != SUCCESS) { return 403; } — or use ssl_verify_client on.`;
      } else if (check.kind === 'partial') {
        msg = `${base}, and only some locations check $ssl_client_verify (${check.where} do not). Check it at server level: if ($ssl_client_verify != SUCCESS) { return 403; } — or use ssl_verify_client on.`;
      } else {
        msg = `${base} and nothing here rejects them, so Leg 2 is open.${check.note ?? ''} Use ssl_verify_client on, or add: if ($ssl_client_verify != SUCCESS) { return 403; }`;
      }
      emit(finding(verify!.file, verify!.args[0], sev, 'leg2-optional-unchecked', msg,
        { dialect: 'nginx', block: blk(), directive: ref(ctx, verify!), verifyClient: ref(ctx, verify!), clientCa: clientCa ? ref(ctx, clientCa) : undefined, suggestedValue: 'on', suggestedDirectives: ['if ($ssl_client_verify != SUCCESS) { return 403; }'] }), ignored, names);
    }
  }

  // leg2-verify-depth. nginx hands ssl_verify_depth to OpenSSL, which counts the intermediates between the
  // client certificate and the trust anchor: 0 accepts a certificate issued directly by a CA in the file,
  // 1 (the default) one intermediate more.
  if (verifying && clientCa && ctx.settings.checkVerifyDepth !== false) {
    const chain = caAnalysis && caAnalysis.certs.length ? neededDepth(caAnalysis) : 1;
    const needed = chain - 1;
    const suggested = Math.max(needed, 1);
    const depth = depthDir ? parseInt(depthDir.args[0]?.value ?? '', 10) : 1;
    const common = { dialect: 'nginx' as const, block: blk(), verifyClient: ref(ctx, verify!), clientCa: ref(ctx, clientCa), suggestedDepth: suggested, suggestedDirectives: [`ssl_verify_depth ${suggested};`] };
    const why = needed === 0 ? 'certificates issued directly by the CA' : `${needed} intermediate CA${needed > 1 ? 's' : ''} below the CA`;
    if (!depthDir) {
      emit(finding(verify!.file, verify!, 'information', 'leg2-verify-depth',
        `No ssl_verify_depth: nginx's default of 1 allows one intermediate CA between the client certificate and the CA in ${clientCa.args[0]?.value}, enough for ${why} (Cloudflare's origin-pull certificate is issued directly by the CA). Add ssl_verify_depth ${suggested}; to make that explicit.`,
        common), ignored, names);
    } else if (!isNaN(depth) && depth < needed) {
      emit(finding(depthDir.file, depthDir.args[0] ?? depthDir, 'warning', 'leg2-verify-depth',
        `ssl_verify_depth ${depth} is too shallow for the CA chain in ${clientCa.args[0]?.value}: client certificates issued below its ${needed} intermediate CA${needed > 1 ? 's' : ''} fail verification (nginx counts the intermediates between the certificate and the trust anchor). Use ssl_verify_depth ${suggested};`,
        { ...common, directive: ref(ctx, depthDir), verifyDepth: ref(ctx, depthDir) }), ignored, names);
    } else if (!isNaN(depth) && depth > suggested) {
      emit(finding(depthDir.file, depthDir.args[0] ?? depthDir, 'information', 'leg2-verify-depth',
        `ssl_verify_depth ${depth} allows ${depth} intermediate CAs, more than the CA chain needs (${why}); longer client chains than Cloudflare's are accepted for no reason. Use ssl_verify_depth ${suggested};`,
        { ...common, directive: ref(ctx, depthDir), verifyDepth: ref(ctx, depthDir) }), ignored, names);
    }
  }
}

type Check = { kind: 'checked' } | { kind: 'none'; note?: string } | { kind: 'forwarded'; where: string } | { kind: 'partial'; where: string };

/** Directives that pass a value on to a backend (the backend may check it). */
const FORWARDERS = new Set(['proxy_set_header', 'fastcgi_param', 'uwsgi_param', 'scgi_param', 'grpc_set_header', 'proxy_set_body']);

function usesVar(d: Directive, vars: Set<string>): boolean {
  const t = argsText(d);
  for (const v of vars) if (t.includes(v)) return true;
  return false;
}

/** `return` with a refusal: 4xx/5xx (444 closes the connection). */
function refuses(d: Directive): boolean {
  if (d.name !== 'return') return false;
  const code = parseInt(d.args[0]?.value ?? '', 10);
  return !isNaN(code) && code >= 400;
}

/**
 * An `if` that refuses clients whose certificate did not verify: its condition tests the verify result
 * (negatively: `!= SUCCESS`, `!~ ^SUCCESS$`, or a map variable) and its body ends the request with a
 * refusal. An `if` whose body only sets a variable or a header lets the request through.
 */
function isRefusingIf(d: NginxDirective, vars: Set<string>): boolean {
  if (d.name !== 'if' || !d.block || !usesVar(d, vars)) return false;
  const cond = argsText(d);
  const direct = /\$ssl_client_verify\b/.test(cond);
  // `if ($ssl_client_verify = SUCCESS) { return 403; }` refuses the verified clients, not the others.
  if (direct && !/!=|!~/.test(cond)) return false;
  return flat(d.block).some(refuses);
}

/** A server-level `return` with a refusal: every request ends there (catch-all servers: `return 444;`). */
function refusesEverything(dirs: NginxDirective[]): boolean {
  return dirs.some(refuses);
}

/** Is there something in the server that refuses clients whose certificate did not verify, on every path? */
function findCheck(dirs: NginxDirective[], vars: Set<string>): Check {
  const hasIf = (ds: NginxDirective[]): boolean => {
    for (const d of ds) {
      if (isRefusingIf(d, vars)) return true;
      if (d.rawBlock && /ssl_client_verify/.test(d.name + argsText(d))) return true;
    }
    return false;
  };
  if (hasIf(dirs) || refusesEverything(dirs)) return { kind: 'checked' };
  const locations = dirs.filter(d => d.name === 'location' && d.block);
  const checked = locations.filter(l => hasIf(flat(l.block)) || refusesEverything(flat(l.block)));
  // Requests that match no location are served by the server itself: without `location /` some are unchecked.
  const coversAll = locations.some(l => l.args.length === 1 && l.args[0].value === '/');
  if (locations.length > 0 && checked.length === locations.length && coversAll) return { kind: 'checked' };
  if (checked.length > 0) {
    const open = locations.filter(l => !checked.includes(l)).map(l => `location ${argsText(l)}`);
    if (!coversAll) open.push('requests matching no location');
    return { kind: 'partial', where: open.slice(0, 3).join(', ') + (open.length > 3 ? ', …' : '') };
  }
  const fwd: string[] = [];
  let notRefusing = false;
  let echoed = false;
  const stack: NginxDirective[][] = [dirs];
  for (let n = 0; stack.length && n < 10000; n++) {
    for (const d of stack.pop()!) {
      if (d.name === 'if' && usesVar(d, vars)) notRefusing = true;
      else if (!d.block && usesVar(d, vars)) { if (FORWARDERS.has(d.name)) fwd.push(d.name); else echoed = true; }
      if (d.block && !d.rawBlock) stack.push(flat(d.block));
    }
  }
  if (fwd.length) return { kind: 'forwarded', where: [...new Set(fwd)].join(', ') };
  const note = notRefusing
    ? ' An if on $ssl_client_verify is not a check unless it ends the request (return 403;): setting a variable or a header lets the request through.'
    : echoed ? ' Showing $ssl_client_verify to the client (add_header, return, log) is not a check.' : undefined;
  return { kind: 'none', note };
}
