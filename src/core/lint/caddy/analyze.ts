// Leg 2 rules for Caddy (2.6), as the real server behaves (each verdict has a real-server test):
// - a TLS site without `client_auth` accepts every client -> leg2-no-client-auth;
// - `mode request` and `verify_if_given` let clients without a certificate in, and `mode require` accepts
//   *any* certificate even with a CA configured (Go's RequireAnyClientCert) -> leg2-optional-unchecked;
// - `require_and_verify` (or a CA without a mode, which means the same) with no CA, or a leaf pin alone,
//   verifies against the system roots and refuses everyone; `require` without a CA takes any
//   certificate -> leg2-no-ca;
// - an unknown mode makes `caddy validate` fail -> leg2-invalid-value;
// - CA files: missing/empty/no certificate fail `caddy validate`; the others are warnings -> leg2-ca-file.
// Plain-HTTP sites (`http://`, port 80, no host name and no `tls`) are not judged.
import * as path from 'path';
import { CaddyDirective, Finding, ParsedFile } from '../types';
import { judgeCaFile } from '../ca';
import { blockIgnores, finding, isIgnored, isLeg2, LazyIgnores, LintContext, loadParsedFile, memo, readCa, ref, serverNameMatches } from '../common';
import { resolvePattern } from '../paths';
import { serverCaPath } from '../serverCa';
import { parseCaddy } from './parser';

export const CADDY_MODES = ['require_and_verify', 'require', 'verify_if_given', 'request'];
/** Where the quick-fixes put the client CA on the server by default (setting mtls.lint.serverCaPath.caddy). */
export const CADDY_ORIGIN_PULL_CA = serverCaPath('caddy');
const CA_SUBS = ['trusted_ca_cert', 'trusted_ca_cert_file'];
const MAX_IMPORT_DEPTH = 10;

export interface CaddySite {
  /** The block whose key line holds the addresses (for a file that is one site without braces: its first line). */
  keys: CaddyDirective;
  addresses: string[];
  /** The site's directives, imports and snippets expanded. */
  directives: CaddyDirective[];
}

export interface CaddyGlobals {
  autoHttpsOff: boolean;
  httpPort: string;
}

/** A site address split like Caddy does: [scheme://]host[:port][/path]. */
export function splitAddress(a: string): { scheme?: string; host: string; port?: string } {
  let rest = a;
  let scheme: string | undefined;
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (m) { scheme = m[1].toLowerCase(); rest = rest.slice(m[0].length); }
  const slash = rest.indexOf('/');
  if (slash >= 0) rest = rest.slice(0, slash);
  let host = rest;
  let port: string | undefined;
  const pm = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(rest);
  if (pm) { host = pm[1]; port = pm[2]; }
  return { scheme, host, port };
}

/** True when Caddy serves this site over TLS. */
export function siteIsTls(site: CaddySite, g: CaddyGlobals): boolean {
  if (site.directives.some(d => d.name === 'tls')) return true;
  return site.addresses.some(a => {
    const { scheme, host, port } = splitAddress(a);
    if (scheme === 'https') return true;
    if (scheme === 'http') return false;
    if (port === (g.httpPort || '80')) return false;
    // Automatic HTTPS needs a host name (or IP); with auto_https off Caddy still sets up TLS for them.
    return host !== '' && !host.startsWith('{');
  });
}

/** Global options, sites and snippets of a Caddyfile, top-level imports followed. */
export function caddySites(ctx: LintContext | undefined, root: ParsedFile): { sites: CaddySite[]; globals: CaddyGlobals } {
  const top: CaddyDirective[] = [];
  const seen = new Set<string>([root.file]);
  const addTop = (ds: CaddyDirective[], depth: number) => {
    for (const d of ds) {
      if (d.name === 'import' && !d.block && ctx && depth < MAX_IMPORT_DEPTH) {
        const files = importFiles(ctx, d);
        if (files) {
          for (const pf of files) if (!seen.has(pf.file)) { seen.add(pf.file); addTop(pf.directives as CaddyDirective[], depth + 1); }
          continue;
        }
      }
      top.push(d);
    }
  };
  addTop(root.directives as CaddyDirective[], 0);
  const snippets = new Map<string, CaddyDirective>();
  const globals: CaddyGlobals = { autoHttpsOff: false, httpPort: '80' };
  const blocks: CaddyDirective[] = [];
  for (const d of top) {
    if (d.block && d.name === '' && d.args.length === 0) {
      for (const o of d.block as CaddyDirective[]) {
        if (o.name === 'auto_https' && o.args[0]?.value === 'off') globals.autoHttpsOff = true;
        if (o.name === 'http_port' && o.args[0]) globals.httpPort = o.args[0].value;
      }
    } else if (d.block && /^\(.*\)$/.test(d.name)) {
      snippets.set(d.name.slice(1, -1), d);
    } else {
      blocks.push(d);
    }
  }
  const sites: CaddySite[] = [];
  const first = blocks[0];
  if (first && !first.block && first.name !== 'import') {
    // One site without braces: the first line holds its addresses, the rest of the file is its body.
    sites.push({ keys: first, addresses: [first.name, ...first.args.map(a => a.value)].filter(Boolean), directives: expand(ctx, blocks.slice(1), snippets, 0) });
  } else {
    for (const b of blocks) {
      if (!b.block) continue;
      sites.push({ keys: b, addresses: [b.name, ...b.args.map(a => a.value)].filter(Boolean), directives: expand(ctx, b.block as CaddyDirective[], snippets, 0) });
    }
  }
  return { sites, globals };
}

/** Directives one site expands to at most (snippets importing snippets must not multiply without end). */
const MAX_EXPANDED = 50_000;

function expand(ctx: LintContext | undefined, ds: CaddyDirective[], snippets: Map<string, CaddyDirective>, depth: number, out: CaddyDirective[] = []): CaddyDirective[] {
  for (const d of ds) {
    if (out.length >= MAX_EXPANDED) break;
    if (d.name === 'import' && !d.block && d.args[0] && depth < MAX_IMPORT_DEPTH) {
      const snip = snippets.get(d.args[0].value);
      if (snip) { expand(ctx, snip.block as CaddyDirective[], snippets, depth + 1, out); continue; }
      const files = ctx ? importFiles(ctx, d) : undefined;
      if (files) { for (const pf of files) expand(ctx, pf.directives as CaddyDirective[], snippets, depth + 1, out); continue; }
    }
    out.push(d);
  }
  return out;
}

/** Files an `import <pattern>` names (globs allowed), parsed; undefined when it names a snippet or nothing. */
function importFiles(ctx: LintContext, d: CaddyDirective): ParsedFile[] | undefined {
  return memo(ctx, `caddy-import\0${d.file}\0${d.line}\0${d.column}`, () => resolveImport(ctx, d));
}

function resolveImport(ctx: LintContext, d: CaddyDirective): ParsedFile[] | undefined {
  const pattern = d.args[0]?.value;
  if (!pattern || pattern.includes('{')) return undefined;
  const bases = [path.dirname(d.file), path.dirname(ctx.rootFile), ctx.settings.workspaceRoot ?? ''];
  const r = ctx.options.resolveInclude ? { files: ctx.options.resolveInclude(pattern, d.file, 'caddy') } : resolvePattern(pattern, bases, ctx.fs, 'drop');
  if (!r.files.length) return undefined;
  d.included = [];
  for (const f of r.files) {
    const pf = loadParsedFile(ctx, f, parseCaddy);
    if (pf) d.included.push(pf);
  }
  return d.included;
}

/** The last `name` directive among ds (Caddy keeps the last one of a kind in a block). */
function last(ds: CaddyDirective[] | undefined, name: string): CaddyDirective | undefined {
  let hit: CaddyDirective | undefined;
  for (const d of ds ?? []) if (d.name === name) hit = d;
  return hit;
}

export function lintCaddy(ctx: LintContext, root: ParsedFile): void {
  const { sites, globals } = caddySites(ctx, root);
  const done = new Set<string>();
  for (const site of sites) {
    if (Date.now() > ctx.deadline) { ctx.timedOut = true; return; }
    if (!siteIsTls(site, globals)) continue;
    const ignored = new LazyIgnores(() => blockIgnores(ctx, site.keys));
    const hosts = site.addresses.map(a => splitAddress(a).host);
    const emit = (f: Finding) => {
      if (isIgnored(f.code, ignored)) return;
      if (isLeg2(f.code) && hosts.some(h => (ctx.settings.ignoreServerNames ?? []).some(p => serverNameMatches(h, p)))) return;
      const key = `${f.file}:${f.line}:${f.column}:${f.code}:${f.data?.caProblem ?? ''}`;
      if (done.has(key)) return;
      done.add(key);
      ctx.findings.push(f);
    };
    const keysRange = { line: site.keys.line, column: site.keys.column, endLine: site.keys.openBrace?.endLine ?? site.keys.nameRange.endLine, endColumn: site.keys.openBrace?.endColumn ?? site.keys.nameRange.endColumn };
    const shown = site.addresses.join(', ');
    const tls = last(site.directives, 'tls');
    const auth = last(tls?.block as CaddyDirective[] | undefined, 'client_auth');
    const subs = (auth?.block ?? []) as CaddyDirective[];
    const active = subs.some(s => CA_SUBS.includes(s.name) || s.name === 'trusted_leaf_cert' || s.name === 'trusted_leaf_cert_file' || s.name === 'mode');
    if (!auth || !active) {
      emit(finding(site.keys.file, keysRange, 'warning', 'leg2-no-client-auth',
        `The TLS site ${shown} does not ask for a client certificate, so Leg 2 is open: anyone who reaches the origin directly bypasses Cloudflare. Add to its tls block: client_auth { mode require_and_verify; trusted_ca_cert_file <origin-pull CA> } — or add "# mtls-lint: ignore leg2-no-client-auth" if this site is not behind Cloudflare.`,
        { dialect: 'caddy', directive: ref(ctx, auth ?? tls ?? site.keys) }));
      continue;
    }
    const modeDir = last(subs, 'mode');
    const mode = modeDir?.args[0]?.value;
    const cas = subs.filter(s => CA_SUBS.includes(s.name));
    const leaves = subs.filter(s => s.name === 'trusted_leaf_cert' || s.name === 'trusted_leaf_cert_file');
    const authRange = { line: auth.line, column: auth.column, endLine: auth.openBrace?.endLine ?? auth.endLine, endColumn: auth.openBrace?.endColumn ?? auth.endColumn };
    if (modeDir && (modeDir.args.length !== 1 || !CADDY_MODES.includes(mode ?? ''))) {
      const suggested = 'require_and_verify';
      emit(finding(modeDir.file, modeDir.args[0] ?? modeDir.nameRange, 'error', 'leg2-invalid-value',
        `"${modeDir.args.map(a => a.value).join(' ')}" is not a client_auth mode: caddy refuses to start ("client auth mode not recognized"). Use require_and_verify (a certificate from the trusted CA is required); the others are require, verify_if_given and request.`,
        { dialect: 'caddy', directive: ref(ctx, modeDir), validValues: CADDY_MODES, suggestedValue: suggested }));
    } else if (!cas.length && (mode === undefined || mode === 'require_and_verify' || mode === 'require')) {
      const what = mode === 'require'
        ? 'mode require without a trusted CA accepts any client certificate, even one anybody can make'
        : leaves.length
          ? 'only a leaf certificate is pinned: with no trusted CA, Caddy verifies clients against the system roots and refuses every client (the pinned one included)'
          : 'client_auth verifies against no trusted CA, so Caddy checks clients against the system roots and refuses Cloudflare';
      emit(finding(auth.file, authRange, 'error', 'leg2-no-ca',
        `On ${shown}: ${what}. Add trusted_ca_cert_file <origin-pull CA> and mode require_and_verify.`,
        { dialect: 'caddy', directive: ref(ctx, auth), verifyClient: modeDir ? ref(ctx, modeDir) : undefined }));
    } else if (mode === 'request' || mode === 'verify_if_given' || mode === 'require') {
      const why = mode === 'require'
        ? 'mode require demands a certificate but never verifies it against the trusted CA: any certificate gets in'
        : mode === 'request'
          ? 'mode request asks for a certificate but neither requires nor verifies it'
          : 'mode verify_if_given lets clients without a certificate in';
      emit(finding(modeDir!.file, modeDir!, 'warning', 'leg2-optional-unchecked',
        `On ${shown}: ${why}, so Leg 2 is open. Use mode require_and_verify.`,
        { dialect: 'caddy', directive: ref(ctx, modeDir!), verifyClient: ref(ctx, modeDir!), suggestedValue: 'require_and_verify' }));
    }
    if (ctx.settings.checkCaFiles === false) continue;
    for (const c of cas) {
      if (c.name !== 'trusted_ca_cert_file' || !c.args[0]) continue;
      const written = c.args[0].value;
      if (written.includes('{')) continue; // placeholder: known only where Caddy runs
      const resolved = memo(ctx, `caddy-ca\0${path.dirname(c.file)}\0${written}`, () => {
        const bases = [path.dirname(c.file), path.dirname(ctx.rootFile), ctx.settings.workspaceRoot ?? ''];
        return resolvePattern(written, bases, ctx.fs, 'drop').files[0] ?? (path.isAbsolute(written) ? written : path.join(path.dirname(c.file), written));
      });
      const verdicts = memo(ctx, `ca-verdicts\0${resolved}\0${written}`, () => judgeCaFile(readCa(ctx, resolved), ctx.now, written));
      if (written === serverCaPath('caddy', ctx.settings.serverCaPath) && verdicts[0]?.problem === 'missing') {
        // The server-side place the quick-fixes write: on a workstation it is normally absent.
        emit(finding(c.file, c.args[0], 'information', 'leg2-ca-file', `${written} is not on this machine, so it was not checked. Install Cloudflare's origin-pull CA (or your own AOP CA) there on the server; caddy refuses to start while it is missing.`, { dialect: 'caddy', directive: ref(ctx, c), clientCa: ref(ctx, c), caPath: written, caPathResolved: resolved, caProblem: 'missing' }));
        continue;
      }
      for (const v of verdicts) {
        emit(finding(c.file, c.args[0], v.severity, 'leg2-ca-file', v.message, {
          dialect: 'caddy', directive: ref(ctx, c), clientCa: ref(ctx, c), caPath: written, caPathResolved: resolved, caProblem: v.problem,
          caSubject: v.subject, caFingerprint256: v.fingerprint256, caNotAfter: v.notAfter,
        }));
      }
    }
  }
}
