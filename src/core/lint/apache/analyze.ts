// Apache httpd: Define/${VAR}, <IfModule>/<IfDefine>, Include/IncludeOptional, inheritance
// (server config -> <VirtualHost> -> directory sections) and the Leg 2 rules. The conditions mirror
// httpd 2.4 mod_ssl (ssl_engine_config.c / ssl_engine_init.c), checked against `apache2 -t` and a
// real start in test/unit/lint/agreement.test.ts.
import * as path from 'path';
import { ApacheDirective, Directive, Finding, ParsedFile } from '../types';
import { blockIgnores, blockRef, finding, isIgnored, isLeg2, LintContext, loadParsedFile, memo, readCa, ref, reportSkipped, serverNameMatches } from '../common';
import { analyzeCaFile, CaFileAnalysis, judgeCaFile, neededDepth } from '../ca';
import { parseApache } from './parser';
import { serverCaPath } from '../serverCa';
import { isUnder, resolvePattern, Skipped } from '../paths';

const VERIFY_VALUES = ['none', 'off', 'optional', 'require', 'on', 'optional_no_ca'];
const TRANSPARENT = new Set(['ifmodule', 'ifdefine', 'ifversion', 'iffile', 'ifdirective', 'ifsection']);
const DIR_SECTIONS = new Set(['directory', 'directorymatch', 'location', 'locationmatch', 'files', 'filesmatch', 'if', 'elseif', 'else', 'proxy', 'proxymatch', 'limit', 'limitexcept']);
const MAX_INCLUDE_DEPTH = 32;

interface EvalState {
  defines: Map<string, string>;
  serverRoot?: string;
  loaded: Set<string>;
  /** Included files already evaluated in this run. */
  evaluated: Set<ParsedFile>;
  /** mod_macro `<Macro>` definitions by lower-case name. */
  macros: Map<string, { params: string[]; body: ApacheDirective[]; file: string }>;
  /** Depth of `Use` expansions in progress (a macro that uses itself stops there). */
  expanding: number;
}

/** A copy of a macro body directive with each parameter (`$name`, `@name`, `%name`, ...) replaced by its value. */
function cloneWithParams(d: ApacheDirective, params: string[], values: string[]): ApacheDirective {
  const sub = (v: string) => {
    let out = v;
    // Longest names first, so `$dir` does not replace the start of `$directory`.
    const order = params.map((p, i) => [p, values[i] ?? ''] as const).sort((a, b) => b[0].length - a[0].length);
    for (const [p, val] of order) if (p) out = out.split(p).join(val);
    return out;
  };
  const c: ApacheDirective = { ...d, args: d.args.map(a => ({ ...a, value: sub(a.value) })) };
  if (d.block) c.block = (d.block as ApacheDirective[]).map(x => cloneWithParams(x, params, values));
  delete c.included;
  return c;
}

export function loadApacheFile(ctx: LintContext, file: string, from?: Directive): ParsedFile | undefined {
  return loadParsedFile(ctx, file, parseApache, from);
}

function lname(d: Directive): string {
  return d.name.toLowerCase();
}

/** Folders relative paths are tried against, best first (ServerRoot, or its copy in the workspace). */
function apacheBases(ctx: LintContext, st: EvalState, includer: string): string[] {
  const rootDir = path.dirname(ctx.rootFile);
  const bases: string[] = [];
  if (ctx.settings.apacheServerRoot) bases.push(ctx.settings.apacheServerRoot);
  const sr = st.serverRoot;
  if (sr && isUnder(ctx.rootFile, sr)) bases.push(sr);
  if (sr) {
    // The workspace copy of the ServerRoot: the nearest ancestor of the main file with the same name.
    const want = path.basename(sr);
    for (let d = rootDir; path.dirname(d) !== d; d = path.dirname(d)) {
      if (path.basename(d) === want) { bases.push(d); break; }
    }
  }
  bases.push(rootDir);
  if (/^(conf|sites-(available|enabled)|conf\.d|conf-(available|enabled)|vhosts\.d|mods-(available|enabled)|extra|other)$/i.test(path.basename(rootDir))) bases.push(path.dirname(rootDir));
  bases.push(path.dirname(includer));
  if (ctx.settings.workspaceRoot) bases.push(ctx.settings.workspaceRoot);
  if (sr) bases.push(sr);
  return bases;
}

function substitute(value: string, st: EvalState): string {
  if (value.indexOf('${') < 0) return value;
  return value.replace(/\$\{([A-Za-z0-9_:.-]+)\}/g, (m, name: string) => (st.defines.has(name) ? st.defines.get(name)! : m));
}

function isSslModule(name: string): boolean {
  return /^(mod_)?ssl(\.c|_module)?$/i.test(name);
}

function moduleKeys(name: string): string[] {
  const n = name.toLowerCase();
  const base = n.replace(/\.c$/, '').replace(/^mod_/, '').replace(/_module$/, '');
  return [n, base, `mod_${base}.c`, `${base}_module`];
}

/** Walks the tree in Apache's order: Defines, ServerRoot, LoadModule, conditional sections, includes. */
function evaluate(ctx: LintContext, ds: Directive[], st: EvalState, stack: string[], active: boolean): void {
  for (const d0 of ds) {
    const d = d0 as ApacheDirective;
    if (Date.now() > ctx.deadline) { ctx.timedOut = true; return; }
    if (active) for (const a of d.args) if (a.raw.indexOf('${') >= 0) a.value = substitute(a.value, st);
    const n = lname(d);
    if (d.section) {
      let here = true;
      if (n === 'ifmodule' && d.args[0]) {
        const v = d.args[0].value;
        const neg = v.startsWith('!');
        const mod = neg ? v.slice(1) : v;
        if (neg) here = !(isSslModule(mod) || moduleKeys(mod).some(k => st.loaded.has(k)));
      } else if (n === 'ifdefine' && d.args[0]) {
        const v = d.args[0].value;
        const neg = v.startsWith('!');
        const name = neg ? v.slice(1) : v;
        const defined = st.defines.has(name) || (ctx.settings.apacheDefines ?? []).includes(name);
        // Unknown -D names count as defined for positive tests (the linter checks what may run).
        here = neg ? !defined : true;
      } else if (n === 'macro') {
        here = false; // a template: checked where `Use` expands it
        if (active && d.args[0] && d.block) st.macros.set(d.args[0].value.toLowerCase(), { params: d.args.slice(1).map(a => a.value), body: d.block as ApacheDirective[], file: d.file });
      }
      if (!here || !active) d.active = false;
      else delete d.active;
      if (d.block) evaluate(ctx, d.block, st, stack, active && here);
      continue;
    }
    if (!active) continue;
    if (n === 'define' && d.args[0]) st.defines.set(d.args[0].value, d.args[1]?.value ?? '');
    else if (n === 'undefine' && d.args[0]) st.defines.delete(d.args[0].value);
    else if (n === 'serverroot' && d.args[0]) st.serverRoot = d.args[0].value;
    else if (n === 'loadmodule' && d.args[0]) {
      for (const k of moduleKeys(d.args[0].value)) st.loaded.add(k);
      if (d.args[1]) for (const k of moduleKeys(path.basename(d.args[1].value).replace(/\.so$/, '.c'))) st.loaded.add(k);
    } else if (n === 'use' && d.args[0]) {
      // mod_macro: the macro's body with its parameters replaced, linted like an included file.
      const m = st.macros.get(d.args[0].value.toLowerCase());
      if (!m || st.expanding >= MAX_INCLUDE_DEPTH) continue;
      const values = d.args.slice(1).map(a => a.value);
      const directives = m.body.map(x => cloneWithParams(x, m.params, values));
      const pf: ParsedFile = { file: m.file, dialect: 'apache', directives, comments: [], findings: [], lineCount: 0 };
      d.included = [pf];
      st.expanding++;
      evaluate(ctx, directives, st, stack, true);
      st.expanding--;
    } else if ((n === 'include' || n === 'includeoptional') && d.args[0]) {
      const pattern = d.args[0].value;
      const skipped: Skipped[] = [];
      const files = ctx.options.resolveInclude
        ? safe(() => ctx.options.resolveInclude!(pattern, d.file, 'apache'))
        : resolvePattern(pattern, apacheBases(ctx, st, d.file), ctx.fs, 'recurse', skipped).files;
      reportSkipped(ctx, d, skipped);
      d.included = [];
      for (const f of files) {
        if (stack.includes(f) || stack.length > MAX_INCLUDE_DEPTH) continue;
        const pf = loadApacheFile(ctx, f, d);
        if (!pf) continue;
        d.included.push(pf);
        // Each file is evaluated once per run: a folder of files that include each other by glob would
        // otherwise be walked along every path (exponential in the number of files).
        if (st.evaluated.has(pf)) continue;
        st.evaluated.add(pf);
        evaluate(ctx, pf.directives, st, [...stack, f], true);
      }
    }
  }
}

function safe(fn: () => string[]): string[] {
  try { return fn() ?? []; } catch { return []; }
}

function isApacheInclude(d: ApacheDirective): boolean {
  if (!d.included) return false;
  const n = lname(d);
  return n === 'include' || n === 'includeoptional' || n === 'use';
}

/**
 * Directives in effect at one level: includes and active conditional sections are see-through. Each
 * included file is inlined once per level (repeats and cycles add nothing); iterative, so neither deep
 * includes nor deep <IfModule> nesting can overflow the stack.
 */
export function flatApache(ds: Directive[] | undefined): ApacheDirective[] {
  if (!ds) return [];
  let plain = true;
  for (const d of ds as ApacheDirective[]) {
    if (d.active === false || (d.section && TRANSPARENT.has(lname(d))) || isApacheInclude(d)) { plain = false; break; }
  }
  if (plain) return ds as ApacheDirective[];
  const out: ApacheDirective[] = [];
  const seen = new Set<ParsedFile>();
  const stack: { ds: Directive[]; i: number }[] = [{ ds, i: 0 }];
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top.i >= top.ds.length) { stack.pop(); continue; }
    const d = top.ds[top.i++] as ApacheDirective;
    if (d.active === false) continue;
    if (d.section && TRANSPARENT.has(lname(d))) { if (d.block) stack.push({ ds: d.block, i: 0 }); continue; }
    if (isApacheInclude(d)) {
      const files = d.included!.filter(pf => !seen.has(pf));
      for (const pf of files) seen.add(pf);
      for (let k = files.length - 1; k >= 0; k--) stack.push({ ds: files[k].directives, i: 0 });
      continue;
    }
    out.push(d);
  }
  return out;
}

/** Every active directive below (through sections of any kind). */
function deep(ds: ApacheDirective[], out: ApacheDirective[] = [], depth = 0): ApacheDirective[] {
  for (const d of ds) {
    out.push(d);
    if (d.section && d.block && depth < 16) deep(flatApache(d.block), out, depth + 1);
  }
  return out;
}

interface Scope {
  engine?: ApacheDirective;
  certs: ApacheDirective[];
  keys: ApacheDirective[];
  verify?: ApacheDirective;
  caFile?: ApacheDirective;
  caPath?: ApacheDirective;
  depth?: ApacheDirective;
  names: string[];
  lastTls?: ApacheDirective;
}

function collect(ds: ApacheDirective[], file?: string): Scope {
  const s: Scope = { certs: [], keys: [], names: [] };
  for (const d of ds) {
    if (d.section) continue;
    switch (lname(d)) {
      case 'sslengine': s.engine = d; break;
      case 'sslcertificatefile': s.certs.push(d); break;
      case 'sslcertificatekeyfile': s.keys.push(d); break;
      case 'sslverifyclient': s.verify = d; break;
      case 'sslcacertificatefile': s.caFile = d; break;
      case 'sslcacertificatepath': s.caPath = d; break;
      case 'sslverifydepth': s.depth = d; break;
      case 'servername': if (d.args[0]) s.names.push(d.args[0].value.replace(/^[a-z]+:\/\//i, '').replace(/:\d+$/, '')); break;
      case 'serveralias': s.names.push(...d.args.map(a => a.value)); break;
    }
    if (/^ssl/i.test(d.name) && (file === undefined || d.file === file)) s.lastTls = d;
  }
  return s;
}

function argsText(d: Directive): string {
  return d.args.map(a => a.value).join(' ');
}

function resolveApachePath(ctx: LintContext, st: EvalState, written: string, from: string): { resolved: string; exists: boolean; isDir: boolean } {
  return memo(ctx, `apapath\0${written}\0${path.dirname(from)}\0${st.serverRoot ?? ''}`, () => resolveApachePathUncached(ctx, st, written, from));
}

function resolveApachePathUncached(ctx: LintContext, st: EvalState, written: string, from: string): { resolved: string; exists: boolean; isDir: boolean } {
  const escaped = written.replace(/([*?[])/g, '\\$1');
  const bases = apacheBases(ctx, st, from);
  const r = resolvePattern(escaped, bases, ctx.fs, 'drop');
  if (r.files.length) return { resolved: r.files[0], exists: true, isDir: false };
  // A directory (SSLCACertificatePath)?
  const cands = path.isAbsolute(written) ? [written] : bases.filter(Boolean).map(b => path.join(b, written));
  for (const c of cands) if (ctx.fs.isDirectory(c)) return { resolved: c, exists: true, isDir: true };
  return { resolved: r.natural, exists: false, isDir: false };
}

/** Lints an Apache tree rooted at `root` (already parsed and registered in ctx). */
export function lintApache(ctx: LintContext, root: ParsedFile): void {
  const st: EvalState = { defines: new Map(), loaded: new Set(), evaluated: new Set([root]), macros: new Map(), expanding: 0 };
  for (const name of ctx.settings.apacheDefines ?? []) st.defines.set(name, '');
  evaluate(ctx, root.directives, st, [root.file], true);
  const done = new Set<string>();
  const emit = (f: Finding, ignored: Set<string>, names: string[]) => {
    if (isIgnored(f.code, ignored)) return;
    if (isLeg2(f.code) && names.some(n => (ctx.settings.ignoreServerNames ?? []).some(p => serverNameMatches(n, p)))) return;
    const key = `${f.file}:${f.line}:${f.column}:${f.code}:${f.data?.caProblem ?? ''}`;
    if (done.has(key)) return;
    done.add(key);
    ctx.findings.push(f);
  };

  const top = flatApache(root.directives);
  const vhosts = top.filter(d => d.section && lname(d) === 'virtualhost');
  const global = top.filter(d => !(d.section && lname(d) === 'virtualhost'));
  const gs = collect(global);
  const globalDeep = deep(global);

  // Checks Apache makes while reading the files (apache2 -t fails), wherever the directive is.
  const syntaxChecks = (ds: ApacheDirective[], ignored: Set<string>, names: string[], inDir: boolean) => {
    for (const d of ds) {
      const n = lname(d);
      if (d.section && d.block) {
        if (n === 'virtualhost') continue;
        syntaxChecks(flatApache(d.block), ignored, names, inDir || DIR_SECTIONS.has(n));
        continue;
      }
      if (n === 'sslverifyclient') {
        const v = d.args[0]?.value.toLowerCase();
        if (d.args.length !== 1 || !VERIFY_VALUES.includes(v)) {
          const suggested = v === 'required' || v === 'yes' || v === 'true' || v === 'always' ? 'require' : v === 'no' || v === 'false' ? 'none' : 'require';
          const msg = d.args.length !== 1
            ? `SSLVerifyClient takes exactly one value (none | optional | require | optional_no_ca)${d.args.some(a => a.value.startsWith('#')) ? '; Apache has no comments after a directive, "#" starts an extra argument' : ''}: apache2 -t fails.`
            : `"${d.args[0].value}" is not a value of SSLVerifyClient: apache2 -t fails (Invalid argument). Use require (demand a valid client certificate), optional, optional_no_ca or none.`;
          emit(finding(d.file, d.args[0] ?? d.nameRange, 'error', 'leg2-invalid-value', msg,
            { dialect: 'apache', directive: ref(ctx, d), validValues: [suggested, ...['require', 'optional', 'optional_no_ca', 'none'].filter(x => x !== suggested)], suggestedValue: suggested }), ignored, names);
        }
      } else if ((n === 'sslcacertificatefile' || n === 'sslcacertificatepath') && inDir) {
        emit(finding(d.file, d.nameRange, 'error', 'leg2-invalid-value', `${d.name} inside <Directory>, <Location>, <Files> or <If> is refused: apache2 -t fails ("Your SSL library does not have support for per-directory CA"). Put it in the <VirtualHost> (or the server config); only SSLVerifyClient can be set per directory.`, { dialect: 'apache', directive: ref(ctx, d) }), ignored, names);
      } else if ((n === 'sslcacertificatefile' || n === 'sslcacertificatepath') && d.args[0] && ctx.settings.checkCaFiles !== false) {
        // mod_ssl checks these when reading the config: "file ... does not exist or is empty".
        const written = d.args[0].value;
        if (written.includes('${')) continue;
        const r = resolveApachePath(ctx, st, written, d.file);
        const wantDir = n === 'sslcacertificatepath';
        let problem: 'missing' | 'empty' | undefined;
        if (!r.exists || r.isDir !== wantDir) problem = 'missing';
        else if (!wantDir) {
          const a = readCa(ctx, r.resolved);
          if (a && a.empty && (ctx.fs.readFile(r.resolved) ?? '').length === 0) problem = 'empty';
        }
        if (problem) {
          let sev: 'error' | 'warning' = 'error';
          let msg = problem === 'empty'
            ? `${d.name}: the file ${written} is empty; apache2 -t fails ("does not exist or is empty"). Put the origin-pull CA certificate (PEM) in it.`
            : wantDir
              ? `${d.name}: ${written} is not a folder; apache2 -t fails ("does not exist or is not a directory").`
              : `${d.name}: ${written} does not exist; apache2 -t fails ("does not exist or is empty"). Point it at the origin-pull CA (or your own AOP CA) file.`;
          if (problem === 'missing' && path.isAbsolute(written) && !ctx.fs.isDirectory(path.dirname(written))) {
            sev = 'warning';
            msg = `${d.name}: ${written} is not on this machine (its folder does not exist either), so it was not checked. Apache refuses the config if it is missing on the server.`;
          }
          emit(finding(d.file, d.args[0], sev, 'leg2-ca-file', msg, { dialect: 'apache', directive: ref(ctx, d), clientCa: ref(ctx, d), caPath: written, caPathResolved: r.resolved, caProblem: problem }), ignored, names);
        }
      }
    }
  };

  syntaxChecks(global, new Set(), [], false);

  const sites: { section?: ApacheDirective; dirs: ApacheDirective[] }[] = vhosts.map(v => ({ section: v, dirs: flatApache(v.block) }));
  // The main server is a TLS site of its own when SSLEngine on is set outside any <VirtualHost>.
  if (gs.engine && gs.engine.args[0]?.value.toLowerCase() === 'on') sites.unshift({ dirs: global });
  for (const site of sites) {
    if (Date.now() > ctx.deadline) { ctx.timedOut = true; return; }
    const vh = site.section;
    const own = vh ? collect(site.dirs, vh.file) : gs;
    const ignored = vh ? blockIgnores(ctx, vh) : new Set<string>();
    const names = own.names.length ? own.names : gs.names;
    if (vh) syntaxChecks(site.dirs, ignored, names, false);
    lintSite(ctx, st, vh, site.dirs, own, vh ? gs : { certs: [], keys: [], names: [] }, vh ? globalDeep : [], ignored, names, emit);
  }
}

function lintSite(
  ctx: LintContext,
  st: EvalState,
  vh: ApacheDirective | undefined,
  dirs: ApacheDirective[],
  own: Scope,
  gs: Scope,
  globalDeep: ApacheDirective[],
  ignored: Set<string>,
  names: string[],
  emit: (f: Finding, ignored: Set<string>, names: string[]) => void,
): void {
  const engine = own.engine ?? gs.engine;
  const tls = !!engine && engine.args[0]?.value.toLowerCase() === 'on';
  if (!tls) return; // plain HTTP (or SSLEngine optional): nothing about Leg 2
  const certs = own.certs.length ? own.certs : gs.certs;
  const keys = own.keys.length ? own.keys : gs.keys;
  const verify = own.verify ?? gs.verify;
  const caFile = own.caFile ?? gs.caFile;
  const caPath = own.caPath ?? gs.caPath;
  const depthDir = own.depth ?? gs.depth;
  const anchor: ApacheDirective = own.engine ?? vh ?? engine!;
  const anchorRange = anchor === vh ? vh.openTag ?? vh : anchor;
  let block: ReturnType<typeof blockRef> | undefined;
  const addrs = vh ? vh.args.map(a => a.value) : [];
  const blk = () => (vh ? (block ??= blockRef(ctx, vh, 'VirtualHost', names, addrs, own.lastTls)) : undefined);
  const base = { dialect: 'apache' as const };

  // tls-no-certificate (AH02572 "Failed to configure at least one certificate and key" at start)
  if (certs.length === 0) {
    emit(finding(anchor.file, anchorRange, 'error', 'tls-no-certificate',
      `This TLS virtual host has no SSLCertificateFile, so Apache fails to start (AH02572: Failed to configure at least one certificate and key). Add SSLCertificateFile and SSLCertificateKeyFile with the origin certificate and key.`,
      { ...base, block: blk(), directive: ref(ctx, anchor), suggestedDirectives: ['SSLCertificateFile /etc/ssl/origin.pem', 'SSLCertificateKeyFile /etc/ssl/origin.key'] }), ignored, names);
  } else if (keys.length === 0 && certs[0].args[0]) {
    // The key may be in the certificate file (httpd >= 2.4.8); complain only if we can see it is not.
    const r = resolveApachePath(ctx, st, certs[0].args[0].value, certs[0].file);
    const text = r.exists && !r.isDir ? ctx.fs.readFile(r.resolved) : undefined;
    if (text !== undefined && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
      emit(finding(certs[0].file, certs[0], 'error', 'tls-no-certificate',
        `No SSLCertificateKeyFile, and ${certs[0].args[0].value} holds no private key: Apache fails to start. Add SSLCertificateKeyFile with the certificate's key.`,
        { ...base, block: blk(), directive: ref(ctx, certs[0]), suggestedDirectives: ['SSLCertificateKeyFile /etc/ssl/origin.key'] }), ignored, names);
    }
  }

  const vmode = verify && verify.args.length === 1 ? verify.args[0].value.toLowerCase() : verify ? 'invalid' : 'absent';
  if (vmode === 'invalid' || (verify && !VERIFY_VALUES.includes(vmode))) return;
  const mode = vmode === 'on' ? 'require' : vmode === 'off' ? 'none' : vmode;
  const hasCa = !!caFile || !!caPath;
  const caDir = caFile ?? caPath;
  // Per-directory SSLVerifyClient (renegotiation / post-handshake auth) inside this vhost.
  const inner = deep(dirs).filter(d => !d.section && lname(d) === 'sslverifyclient' && !dirs.includes(d));
  const innerRequire = inner.filter(d => ['require', 'on', 'optional'].includes(d.args[0]?.value.toLowerCase() ?? ''));
  const verifying = mode === 'require' || mode === 'optional' || mode === 'optional_no_ca';

  // leg2-no-ca
  if ((mode === 'require' || mode === 'optional') && !hasCa) {
    const requireMsg = `SSLVerifyClient ${verify!.args[0].value} with no SSLCACertificateFile or SSLCACertificatePath: Apache starts but logs AH01897 ("no CAs are known for verification") and then refuses every client. Add SSLCACertificateFile with the origin-pull CA (or your own AOP CA).`;
    const optionalMsg = `SSLVerifyClient optional with no SSLCACertificateFile or SSLCACertificatePath: Apache starts without a warning, but every client that presents a certificate — Cloudflare, once Authenticated Origin Pulls is on — fails the handshake, while clients without one get in. Add SSLCACertificateFile with the origin-pull CA (or your own AOP CA).`;
    emit(finding(verify!.file, verify!.args[0], mode === 'require' ? 'error' : 'warning', 'leg2-no-ca', mode === 'require' ? requireMsg : optionalMsg,
      { ...base, block: blk(), directive: ref(ctx, verify!), verifyClient: ref(ctx, verify!), suggestedDirectives: [`SSLCACertificateFile ${serverCaPath('apache', ctx.settings.serverCaPath)}`] }), ignored, names);
  } else if (!hasCa) {
    for (const d of innerRequire) {
      emit(finding(d.file, d.args[0], 'warning', 'leg2-no-ca',
        `SSLVerifyClient ${d.args[0].value} here, but the virtual host has no SSLCACertificateFile or SSLCACertificatePath: no client certificate can be verified, so this part of the site refuses everyone. Add SSLCACertificateFile to the <VirtualHost>.`,
        { ...base, block: blk(), directive: ref(ctx, d), verifyClient: ref(ctx, d), suggestedDirectives: [`SSLCACertificateFile ${serverCaPath('apache', ctx.settings.serverCaPath)}`] }), ignored, names);
    }
  }

  // leg2-ca-file: what is in the CA file (missing/empty were checked with the syntax)
  let analysis: CaFileAnalysis | undefined;
  if (caDir && caDir.args[0] && ctx.settings.checkCaFiles !== false && !caDir.args[0].value.includes('${')) {
    const written = caDir.args[0].value;
    const r = resolveApachePath(ctx, st, written, caDir.file);
    if (r.exists) {
      if (r.isDir) {
        analysis = readCaDir(ctx, r.resolved);
        if (analysis && analysis.empty && verifying) {
          const others = (ctx.fs.listDir(r.resolved) ?? []).filter(e => /\.(pem|crt|cer)$/i.test(e)).length;
          emit(finding(caDir.file, caDir.args[0], 'warning', 'leg2-ca-file',
            `${caDir.name} ${written} trusts nothing: OpenSSL looks CAs up there by their <subject hash>.0 links, and this folder has none${others ? ` (it has ${others} certificate file${others > 1 ? 's' : ''}, but no links to them)` : ''}. Every client certificate, Cloudflare's included, is refused. Run \`openssl rehash ${written}\` on the server, or use SSLCACertificateFile with the CA file.`,
            { ...base, block: blk(), directive: ref(ctx, caDir), clientCa: ref(ctx, caDir), verifyClient: verify ? ref(ctx, verify) : undefined, caPath: written, caPathResolved: r.resolved, caProblem: 'no-certificate' }), ignored, names);
        }
      } else {
        analysis = readCa(ctx, r.resolved);
      }
      if (analysis && !analysis.empty) {
        for (const v of memo(ctx, `verdict\0${r.resolved}\0${written}`, () => judgeCaFile(analysis, ctx.now, written))) {
          let sev = v.severity;
          if (r.isDir && sev === 'error') sev = 'warning';
          // Apache loads the CA whenever the vhost has TLS (AH01895 at start when it holds no certificate).
          const msg = v.problem === 'key-only' || v.problem === 'no-certificate' ? v.message.replace('the server refuses to load it', 'Apache fails to start (AH01895: Unable to configure verify locations for client authentication)') : v.message;
          if (!verifying && (v.problem === 'origin-pull-shared' || v.problem === 'cloudflare-origin-ca' || v.problem === 'not-ca' || v.problem === 'expired' || v.problem === 'not-yet-valid')) continue;
          emit(finding(caDir.file, caDir.args[0], sev, 'leg2-ca-file', msg,
            { ...base, block: blk(), directive: ref(ctx, caDir), clientCa: ref(ctx, caDir), verifyClient: verify ? ref(ctx, verify) : undefined, caPath: written, caPathResolved: r.resolved, caProblem: v.problem, caSubject: v.subject, caFingerprint256: v.fingerprint256, caNotAfter: v.notAfter }), ignored, names);
        }
      }
    }
  }

  const docRoot = [...dirs, ...globalDeep].find(d => !d.section && lname(d) === 'documentroot')?.args[0]?.value;

  // Per-directory verification: TLS renegotiation (1.2) or post-handshake auth (1.3) for those paths.
  if (mode === 'none' || mode === 'absent') {
    for (const d of innerRequire) {
      emit(finding(d.file, d.nameRange, 'warning', 'leg2-per-directory-verify',
        `SSLVerifyClient ${d.args[0].value} only inside a <Location>/<Directory>: Apache asks for the certificate after the handshake (TLS 1.2 renegotiation, TLS 1.3 post-handshake authentication). Whether Cloudflare's origin connections answer that is not documented, so Cloudflare may be refused. Require the certificate for the whole virtual host instead: SSLVerifyClient require in the <VirtualHost>.`,
        { ...base, block: blk(), directive: ref(ctx, d), verifyClient: ref(ctx, d), suggestedValue: 'require', suggestedDirectives: ['SSLVerifyClient require'] }), ignored, names);
    }
  }

  // leg2-no-client-auth
  if (mode === 'none' || mode === 'absent') {
    const sectionOf = (d: ApacheDirective) => enclosingSection(dirs, d);
    if (innerRequire.some(d => { const sec = sectionOf(d); return !!sec && coversWholeSite(sec, docRoot); })) return;
    const partly = innerRequire.map(d => sectionOf(d)).filter((x): x is ApacheDirective => !!x).map(sec => `<${sec.name} ${argsText(sec)}>`);
    const why = partly.length ? `only ${[...new Set(partly)].slice(0, 3).join(', ')} ${partly.length > 1 ? 'require' : 'requires'} one; the rest of the site does not`
      : mode === 'none' ? `SSLVerifyClient is ${verify!.args[0].value}` : 'there is no SSLVerifyClient';
    const add = hasCa ? ['SSLVerifyClient require'] : [`SSLCACertificateFile ${serverCaPath('apache', ctx.settings.serverCaPath)}`, 'SSLVerifyClient require'];
    emit(finding(anchor.file, anchorRange, 'warning', 'leg2-no-client-auth',
      `This TLS virtual host does not require a client certificate (${why}), so Leg 2 is open: anyone who reaches the origin directly bypasses Cloudflare. Require Cloudflare's certificate: ${add.join('; ')} — or add "# mtls-lint: ignore leg2-no-client-auth" if this site is not behind Cloudflare.`,
      { ...base, block: blk(), directive: ref(ctx, anchor), verifyClient: verify ? ref(ctx, verify) : undefined, clientCa: caDir ? ref(ctx, caDir) : undefined, suggestedValue: 'require', suggestedDirectives: add }), ignored, names);
    return;
  }

  // leg2-optional-unchecked
  if (mode === 'optional' || mode === 'optional_no_ca') {
    const check = siteCheck(dirs, globalDeep, docRoot);
    if (check.kind !== 'checked') {
      const all = [...deep(dirs), ...globalDeep];
      const fwd = check.kind === 'none' && all.some(d => /^(requestheader|setenvif|setenvifexpr)$/i.test(d.name) && /SSL_CLIENT_VERIFY/i.test(argsText(d)));
      const notes = check.notes.length ? ' ' + check.notes.join(' ') : '';
      const msg = check.kind === 'partial'
        ? `SSLVerifyClient ${verify!.args[0].value} lets clients without a valid certificate through, and only ${check.where} check${check.where.includes(',') ? '' : 's'} SSL_CLIENT_VERIFY: the rest of the site is open.${notes} Check it for the whole site (in <Location />): Require expr %{SSL_CLIENT_VERIFY} == 'SUCCESS' — or use SSLVerifyClient require.`
        : fwd
          ? `SSLVerifyClient ${verify!.args[0].value} lets clients without a valid certificate through; SSL_CLIENT_VERIFY is only passed on to the backend. Make sure it rejects anything but SUCCESS, or check here: Require expr %{SSL_CLIENT_VERIFY} == 'SUCCESS' — or use SSLVerifyClient require.`
          : `SSLVerifyClient ${verify!.args[0].value} lets clients without a valid certificate through and nothing here rejects them, so Leg 2 is open.${notes} Use SSLVerifyClient require, or add to the vhost's <Location />: Require expr %{SSL_CLIENT_VERIFY} == 'SUCCESS'`;
      emit(finding(verify!.file, verify!.args[0], fwd ? 'information' : 'warning', 'leg2-optional-unchecked', msg,
        { ...base, block: blk(), directive: ref(ctx, verify!), verifyClient: ref(ctx, verify!), clientCa: caDir ? ref(ctx, caDir) : undefined, suggestedValue: 'require', suggestedDirectives: ['<Location "/">', `    Require expr %{SSL_CLIENT_VERIFY} == 'SUCCESS'`, '</Location>'] }), ignored, names);
    }
  }

  // leg2-verify-depth (Apache default depth is 1)
  if (verifying && hasCa && ctx.settings.checkVerifyDepth !== false) {
    const needed = analysis && analysis.certs.length ? neededDepth(analysis) : 1;
    const depth = depthDir ? parseInt(depthDir.args[0]?.value ?? '', 10) : 1;
    const common = { ...base, block: blk(), verifyClient: ref(ctx, verify!), clientCa: caDir ? ref(ctx, caDir) : undefined, suggestedDepth: needed, suggestedDirectives: [`SSLVerifyDepth ${needed}`] };
    if (!depthDir) {
      emit(finding(verify!.file, verify!, needed > 1 ? 'warning' : 'information', 'leg2-verify-depth', needed > 1
        ? `No SSLVerifyDepth: Apache's default of 1 is too shallow for the CA chain in ${caDir!.args[0]?.value} (it needs ${needed}), so client certificates fail verification. Add SSLVerifyDepth ${needed}`
        : `No SSLVerifyDepth: Apache's default is 1, which is what Cloudflare's origin-pull certificate needs (it is issued directly by the CA). Add SSLVerifyDepth 1 to make that explicit.`,
      common), ignored, names);
    } else if (!isNaN(depth) && depth > needed) {
      emit(finding(depthDir.file, depthDir.args[0] ?? depthDir, 'information', 'leg2-verify-depth',
        `SSLVerifyDepth ${depth} is deeper than the CA chain needs (${needed}); longer client chains than Cloudflare's are accepted for no reason. Use SSLVerifyDepth ${needed}`,
        { ...common, directive: ref(ctx, depthDir), verifyDepth: ref(ctx, depthDir) }), ignored, names);
    } else if (!isNaN(depth) && depth < needed) {
      emit(finding(depthDir.file, depthDir.args[0] ?? depthDir, 'warning', 'leg2-verify-depth',
        `SSLVerifyDepth ${depth} is too shallow for the CA chain in ${caDir!.args[0]?.value} (it needs ${needed}); client certificates fail verification. Use SSLVerifyDepth ${needed}`,
        { ...common, directive: ref(ctx, depthDir), verifyDepth: ref(ctx, depthDir) }), ignored, names);
    }
  }
}

/**
 * The certificates of an SSLCACertificatePath folder the way OpenSSL finds them: only `<subject hash>.N`
 * files (made by `openssl rehash` / c_rehash) are looked at; a `ca.pem` without its hash link is never read.
 */
function readCaDir(ctx: LintContext, dir: string): CaFileAnalysis | undefined {
  const entries = (ctx.fs.listDir(dir) ?? []).filter(e => /^[0-9a-f]{8}\.\d+$/i.test(e)).sort().slice(0, 200);
  const chunks: string[] = [];
  for (const e of entries) {
    const t = ctx.fs.readFile(path.join(dir, e));
    if (t) chunks.push(t);
  }
  return analyzeCaFile(Buffer.from(chunks.join('\n'), 'latin1'));
}

// ------------------------------------------------------------------------------------------------
// What a check does and where it applies

/** The directory section (Location, Directory, If, ...) directly holding `target` among `dirs`, if any. */
function enclosingSection(dirs: ApacheDirective[], target: ApacheDirective): ApacheDirective | undefined {
  const stack: { ds: ApacheDirective[]; owner?: ApacheDirective }[] = [{ ds: dirs }];
  while (stack.length) {
    const { ds, owner } = stack.pop()!;
    for (const d of ds) {
      if (d === target) return owner;
      if (d.section && d.block) stack.push({ ds: flatApache(d.block), owner: DIR_SECTIONS.has(lname(d)) ? d : owner });
    }
  }
  return undefined;
}

/** Does a directory section apply to every request of the site? */
function coversWholeSite(sec: ApacheDirective, docRoot?: string): boolean {
  const n = lname(sec);
  const a = (sec.args[0]?.value ?? '').replace(/^"|"$/g, '');
  if (n === 'location') return a === '/';
  if (n === 'locationmatch') return a === '^/' || a === '/' || a === '.*' || a === '^/.*' || a === '^.*';
  if (n === 'directory') {
    const dir = a.replace(/\/+$/, '') || '/';
    return dir === '/' || (!!docRoot && isUnder(docRoot, dir));
  }
  return false;
}

const DENY_FLAGS = /\[(?:[^\]]*,)?\s*(F|forbidden|G|gone|R=4\d\d)\s*(?:,[^\]]*)?\]$/i;

/** Does this section body refuse the request (Require all denied, a forbidding RewriteRule, Deny from all)? */
function denies(ds: ApacheDirective[]): boolean {
  return ds.some(d => {
    const n = lname(d);
    if (n === 'require') return argsText(d).toLowerCase() === 'all denied' || /^expr\s+false$/i.test(argsText(d));
    if (n === 'deny') return /^from\s+all$/i.test(argsText(d));
    if (n === 'rewriterule') return DENY_FLAGS.test(argsText(d));
    return false;
  });
}

function mentionsVerify(d: ApacheDirective): boolean {
  return /SSL_CLIENT_VERIFY/i.test(argsText(d));
}

/** Is the SSL_CLIENT_VERIFY test negative (true for unverified clients)? */
function negativeTest(expr: string): boolean {
  return /!=|!~|\bne\b|^\s*!/i.test(expr);
}

interface ScopeVerdict {
  checked: boolean;
  notes: string[];
}

/** Does one scope (the directives of a vhost level or of one section) refuse clients that did not verify? */
function scopeCheck(ds: ApacheDirective[], vhostLevel: boolean): ScopeVerdict {
  const notes: string[] = [];
  let checked = false;
  const plain = ds.filter(d => !d.section);
  const requires = plain.filter(d => lname(d) === 'require');
  const granting = requires.filter(d => !mentionsVerify(d) && argsText(d).toLowerCase() !== 'all denied');
  const satisfyAny = plain.some(d => lname(d) === 'satisfy' && d.args[0]?.value.toLowerCase() === 'any');
  const engineOn = plain.some(d => lname(d) === 'rewriteengine' && d.args[0]?.value.toLowerCase() === 'on');
  for (const d of plain) {
    const n = lname(d);
    if (n === 'sslrequire') {
      if (!mentionsVerify(d)) { notes.push(`SSLRequire ${argsText(d).slice(0, 60)} does not test SSL_CLIENT_VERIFY, so it is not a check.`); continue; }
      if (satisfyAny && granting.length) { notes.push(`Satisfy Any with "Require ${argsText(granting[0])}" lets every request in, which neutralises SSLRequire.`); continue; }
      checked = true;
    } else if (n === 'require' && d.args[0]?.value.toLowerCase() === 'expr' && mentionsVerify(d) && !negativeTest(argsText(d).slice(4))) {
      // Several Require lines at one level are alternatives (RequireAny): a granting one lets everyone in.
      if (granting.length) { notes.push(`"Require ${argsText(granting[0])}" beside the Require expr is an alternative to it (RequireAny), so every request is let in.`); continue; }
      checked = true;
    } else if (n === 'rewritecond' && mentionsVerify(d)) {
      if (!engineOn) { notes.push('RewriteCond/RewriteRule without RewriteEngine On in the same context are not a check.'); continue; }
      const after = plain.slice(plain.indexOf(d) + 1).find(x => lname(x) === 'rewriterule');
      if (after && DENY_FLAGS.test(argsText(after))) checked = true;
    }
  }
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i];
    const n = lname(d);
    if (!d.section || !d.block) continue;
    if ((n === 'if' || n === 'elseif') && mentionsVerify(d)) {
      const body = flatApache(d.block);
      if (negativeTest(argsText(d)) && denies(body)) { checked = true; continue; }
      const next = ds[i + 1];
      if (!negativeTest(argsText(d)) && next && next.section && lname(next) === 'else' && denies(flatApache(next.block))) { checked = true; continue; }
      notes.push(`<${d.name} ${argsText(d).slice(0, 60)}> does not refuse the request in its body (Require all denied), so it is not a check.`);
    } else if (n === 'requireall') {
      const inner = scopeCheck(flatApache(d.block), vhostLevel);
      if (inner.checked) checked = true;
      notes.push(...inner.notes);
    }
  }
  return { checked, notes };
}

type SiteCheck = { kind: 'checked'; notes: string[] } | { kind: 'none'; notes: string[] } | { kind: 'partial'; where: string; notes: string[] };

/** Is every request path of the site refused without a verified client certificate? */
function siteCheck(dirs: ApacheDirective[], globalDeep: ApacheDirective[], docRoot?: string): SiteCheck {
  const notes: string[] = [];
  const top = scopeCheck(dirs, true);
  notes.push(...top.notes);
  if (top.checked) return { kind: 'checked', notes };
  const partial: string[] = [];
  const sections = [...deep(dirs), ...globalDeep].filter(d => d.section && d.block && DIR_SECTIONS.has(lname(d)) && !/^(if|elseif|else)$/i.test(d.name));
  for (const sec of sections) {
    const v = scopeCheck(flatApache(sec.block), false);
    for (const nt of v.notes) if (!notes.includes(nt)) notes.push(nt);
    if (!v.checked) continue;
    if (coversWholeSite(sec, docRoot)) return { kind: 'checked', notes };
    partial.push(`<${sec.name} ${argsText(sec)}>`);
  }
  if (partial.length) return { kind: 'partial', where: partial.slice(0, 3).join(', '), notes };
  return { kind: 'none', notes };
}
