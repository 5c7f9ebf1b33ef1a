// Leg 2 rules for HAProxy (2.6), as the real server behaves (each verdict has a real-server test):
// - `bind ... ssl` without `verify` (or `verify none`), on the bind or on one crt-list line, accepts every
//   client; HAProxy does not tie Host to SNI, so one open crt-list line opens the whole frontend
//   -> leg2-no-client-auth;
// - `verify optional` lets clients without a certificate in unless an `http-request deny` (or
//   `tcp-request ... reject`) refuses them; `ssl_c_verify` is 0 when no certificate was sent, so the rule
//   must test `ssl_c_used`. With `crt-ignore-err` / `ca-ignore-err` a foreign certificate passes the
//   handshake, so the rule must also test `ssl_c_verify 0` -> leg2-optional-unchecked;
// - `verify required|optional` without `ca-file`: `haproxy -c` fails -> leg2-no-ca;
// - an unknown verify value fails `haproxy -c` -> leg2-invalid-value;
// - CA files missing/empty/no certificate fail `haproxy -c`; the others are warnings -> leg2-ca-file;
// - `ssl` without `crt`/`crt-list` fails `haproxy -c` -> tls-no-certificate.
// Listeners without `ssl` are not judged.
import * as path from 'path';
import { Arg, Finding, HaproxyDirective, ParsedFile, Range } from '../types';
import { judgeCaFile } from '../ca';
import { blockIgnores, finding, IgnoreSet, isIgnored, LazyIgnores, LintContext, loadParsedFile, memo, readCa, ref, serverNameMatches } from '../common';
import { resolvePattern } from '../paths';
import { serverCaPath } from '../serverCa';
import { parseCrtList } from './parser';

export const VERIFY_VALUES = ['none', 'optional', 'required'];
/** Where the quick-fixes put the client CA on the server by default (setting mtls.lint.serverCaPath.haproxy). */
export const HAPROXY_ORIGIN_PULL_CA = serverCaPath('haproxy');

/** bind keywords that take a value (so the value is not read as a keyword). */
const VALUE_KEYWORDS = new Set([
  'accept-netscaler-cip', 'alpn', 'backlog', 'ca-file', 'ca-ignore-err', 'ca-sign-file', 'ca-sign-pass', 'ca-verify-file', 'ciphers',
  'ciphersuites', 'client-sigalgs', 'crl-file', 'crt', 'crt-ignore-err', 'crt-list', 'curves', 'ecdhe', 'expose-fd', 'gid', 'group',
  'id', 'interface', 'level', 'severity-output', 'maxconn', 'mode', 'mss', 'name', 'namespace', 'nice', 'npn', 'process', 'proto',
  'quic-cc-algo', 'shards', 'sigalgs', 'ssl-max-ver', 'ssl-min-ver', 'tcp-ut', 'thread', 'tls-ticket-keys', 'uid', 'user', 'verify',
]);

/** The options of a bind line (or of a crt-list line's `[...]`), last one of a kind wins. */
export interface SslOptions {
  ssl: boolean;
  crt: FileArg[];
  crtList: FileArg[];
  verify?: FileArg;
  caFile?: FileArg;
  ignoreErr?: FileArg;
}

/** An option value with the file it is written in (a bind line's or a crt-list line's). */
export type FileArg = Arg & { file: string };

export function readOptions(args: Arg[], from: number, file: string): SslOptions {
  const o: SslOptions = { ssl: false, crt: [], crtList: [] };
  for (let i = from; i < args.length; i++) {
    const k = args[i].value;
    const v = args[i + 1] ? { ...args[i + 1], file } : undefined;
    if (k === 'ssl') o.ssl = true;
    else if (k === 'crt' && v) o.crt.push(v);
    else if (k === 'crt-list' && v) o.crtList.push(v);
    else if (k === 'verify' && v) o.verify = v;
    else if (k === 'ca-file' && v) o.caFile = v;
    else if ((k === 'ca-ignore-err' || k === 'crt-ignore-err') && v) o.ignoreErr = v;
    if (VALUE_KEYWORDS.has(k)) i++;
  }
  return o;
}

// ---------------------------------------------------------------------------------------- deny rules

type Tri = 0 | 1 | 2; // false, true, unknown
const F: Tri = 0, T: Tri = 1, U: Tri = 2;

/** What a client looks like to the ssl_c_* fetches. */
interface Scenario { used: boolean; verified: boolean }
const ANONYMOUS: Scenario = { used: false, verified: true }; // ssl_c_verify is 0 without a certificate
const FOREIGN: Scenario = { used: true, verified: false };

/** Value of one ACL criterion (`ssl_c_used`, `ssl_c_verify 0`, ...) for a scenario. */
function criterion(words: string[], s: Scenario): Tri {
  const fetch = (words[0] ?? '').replace(/\(\)$/, '');
  // matching flags (-m int, -m bool, -i, ...) and the `eq` operator do not change what these fetches test
  const vals: string[] = [];
  for (let i = 1; i < words.length; i++) {
    if (words[i] === '-m') { i++; continue; }
    if (!words[i].startsWith('-') && words[i] !== 'eq') vals.push(words[i]);
  }
  if (fetch === 'ssl_c_used' || fetch === 'ssl_fc_has_crt') return vals.length ? U : s.used ? T : F;
  // ssl_c_verify (whole chain) and ssl_c_err (the leaf) are 0 for a good certificate and without one
  if ((fetch === 'ssl_c_verify' || fetch === 'ssl_c_err') && vals.length === 1 && vals[0] === '0') return s.verified ? T : F;
  return U;
}

function and(a: Tri, b: Tri): Tri { return a === F || b === F ? F : a === T && b === T ? T : U; }
function or(a: Tri, b: Tri): Tri { return a === T || b === T ? T : a === F && b === F ? F : U; }
function not(a: Tri): Tri { return a === U ? U : a === T ? F : T; }

/** Evaluates an `if`/`unless` condition (words after the keyword) with named ACLs. */
function evalCondition(words: string[], acls: Map<string, string[][]>, s: Scenario): Tri {
  let result: Tri = F;
  let term: Tri = T;
  for (let i = 0; i < words.length; i++) {
    let w = words[i];
    if (w === '||' || w.toLowerCase() === 'or') { result = or(result, term); term = T; continue; }
    let neg = false;
    while (w.startsWith('!')) { neg = !neg; w = w.slice(1); }
    if (w === '' && i + 1 < words.length) { w = words[++i]; }
    let v: Tri;
    if (w === '{') {
      const inner: string[] = [];
      while (++i < words.length && words[i] !== '}') inner.push(words[i]);
      v = criterion(inner, s);
    } else {
      const defs = acls.get(w);
      v = U;
      if (defs) { v = F; for (const d of defs) v = or(v, criterion(d, s)); }
      else if (w === 'TRUE') v = T;
      else if (w === 'FALSE') v = F;
    }
    term = and(term, neg ? not(v) : v);
  }
  return or(result, term);
}

const DENY_HTTP = new Set(['deny', 'reject', 'tarpit', 'silent-drop']);

interface DenyRule { directive: HaproxyDirective; cond?: { kind: 'if' | 'unless'; words: string[] } }

function denyRules(section: HaproxyDirective, http: boolean): DenyRule[] {
  const out: DenyRule[] = [];
  for (const d of (section.block ?? []) as HaproxyDirective[]) {
    const a = d.args.map(x => x.value);
    let action: string | undefined;
    let rest: string[] = [];
    if (d.name === 'http-request' && http) { action = DENY_HTTP.has(a[0]) ? a[0] : undefined; rest = a.slice(1); }
    if (d.name === 'tcp-request' && (a[0] === 'connection' || a[0] === 'session' || a[0] === 'content') && a[1] === 'reject') { action = 'reject'; rest = a.slice(2); }
    if (!action) continue;
    const ci = rest.findIndex(x => x === 'if' || x === 'unless');
    out.push({ directive: d, cond: ci >= 0 ? { kind: rest[ci] as 'if' | 'unless', words: rest.slice(ci + 1) } : undefined });
  }
  return out;
}

function acls(section: HaproxyDirective): Map<string, string[][]> {
  const m = new Map<string, string[][]>();
  for (const d of (section.block ?? []) as HaproxyDirective[]) {
    if (d.name !== 'acl' || d.args.length < 2) continue;
    const name = d.args[0].value;
    m.set(name, [...(m.get(name) ?? []), d.args.slice(1).map(x => x.value)]);
  }
  return m;
}

/** True when some rule surely refuses this kind of client. */
function refuses(rules: DenyRule[], table: Map<string, string[][]>, s: Scenario): boolean {
  return rules.some(r => {
    if (!r.cond) return true;
    const v = evalCondition(r.cond.words, table, s);
    return r.cond.kind === 'if' ? v === T : v === F;
  });
}

// ---------------------------------------------------------------------------------------------- lint

interface Bases { ca: string[]; crt: string[] }

function resolveFile(ctx: LintContext, written: string, bases: string[]): string {
  return memo(ctx, `haproxy-file\0${bases.join('\0')}\0${written}`, () => {
    const r = resolvePattern(written, bases, ctx.fs, 'drop');
    return r.files[0] ?? r.natural;
  });
}

export function lintHaproxy(ctx: LintContext, root: ParsedFile): void {
  const top = root.directives as HaproxyDirective[];
  const dir = path.dirname(root.file);
  const extra = [dir, path.dirname(ctx.rootFile), ctx.settings.workspaceRoot ?? ''];
  const bases: Bases = { ca: [...extra], crt: [...extra] };
  let lastDefaultsMode = 'tcp';
  for (const s of top) {
    if (!s.section) continue;
    if (s.name === 'global') {
      for (const d of (s.block ?? []) as HaproxyDirective[]) {
        if (d.name === 'ca-base' && d.args[0]) bases.ca.unshift(d.args[0].value);
        if (d.name === 'crt-base' && d.args[0]) bases.crt.unshift(d.args[0].value);
      }
    }
  }
  for (const s of top) {
    if (Date.now() > ctx.deadline) { ctx.timedOut = true; return; }
    if (!s.section) continue;
    const own = ((s.block ?? []) as HaproxyDirective[]).filter(d => d.name === 'mode').pop()?.args[0]?.value;
    if (s.name === 'defaults') { if (own) lastDefaultsMode = own; continue; }
    if (s.name !== 'frontend' && s.name !== 'listen') continue;
    lintProxy(ctx, s, (own ?? lastDefaultsMode) === 'http', bases);
  }
}

function lintProxy(ctx: LintContext, section: HaproxyDirective, http: boolean, bases: Bases): void {
  const ignored = new LazyIgnores(() => blockIgnores(ctx, section));
  const rules = denyRules(section, http);
  const table = acls(section);
  const refusesAnonymous = refuses(rules, table, ANONYMOUS);
  const refusesForeign = refuses(rules, table, FOREIGN);
  const emit = (f: Finding, more?: IgnoreSet) => {
    if (isIgnored(f.code, ignored) || (more && isIgnored(f.code, more))) return;
    ctx.findings.push(f);
  };
  const name = section.args[0]?.value ?? section.name;
  for (const bind of (section.block ?? []) as HaproxyDirective[]) {
    if (bind.name !== 'bind') continue;
    const o = readOptions(bind.args, 1, bind.file);
    if (!o.ssl) continue;
    const bindRange: Range = { line: section.line, column: section.column, endLine: bind.endLine, endColumn: bind.endColumn };
    if (!o.crt.length && !o.crtList.length) {
      emit(finding(bind.file, bind, 'error', 'tls-no-certificate', `bind ${bind.args[0]?.value ?? ''} in ${section.name} ${name} has "ssl" but no "crt" or "crt-list": haproxy -c fails ("no SSL certificate specified for bind"). Add crt <certificate and key PEM>.`, { dialect: 'haproxy', directive: ref(ctx, bind) }));
      continue;
    }
    const judge = (opts: SslOptions, anchor: HaproxyDirective, anchorRange: Range, where: string, more?: IgnoreSet) => {
      const v = opts.verify?.value;
      const data = { dialect: 'haproxy' as const, directive: ref(ctx, anchor) };
      if (opts.verify && !VERIFY_VALUES.includes(v!)) {
        emit(finding(opts.verify.file, opts.verify, 'error', 'leg2-invalid-value', `"${v}" is not a value of verify: haproxy -c fails ("unknown verify method"). Use required (a certificate from ca-file is required), optional or none.`, { ...data, validValues: ['required', 'optional', 'none'], suggestedValue: 'required' }), more);
        return;
      }
      if (!v || v === 'none') {
        emit(finding(anchor.file, anchorRange, 'warning', 'leg2-no-client-auth', `${where} accepts TLS clients without a certificate (no "verify required"), so Leg 2 is open: anyone who reaches the origin directly bypasses Cloudflare${anchor.crtListEntry ? ' — and since HAProxy does not tie the Host header to the SNI name, this one line opens every site of the frontend' : ''}. Add ca-file <origin-pull CA> verify required — or "# mtls-lint: ignore leg2-no-client-auth" if it is not behind Cloudflare.`, data), more);
        return;
      }
      if (!opts.caFile) {
        emit(finding(opts.verify!.file, opts.verify!, 'error', 'leg2-no-ca', `${where}: verify ${v} without ca-file: haproxy -c fails ("verify is enabled but no CA file specified"). Add ca-file <origin-pull CA>.`, { ...data, verifyClient: ref(ctx, anchor) }), more);
      } else {
        const anonymousIn = v === 'optional' && !refusesAnonymous;
        const foreignIn = !!opts.ignoreErr && !refusesForeign;
        if (anonymousIn || foreignIn) {
          const why = anonymousIn && foreignIn
            ? `verify optional with ${opts.ignoreErr!.file === opts.verify!.file ? '' : 'the bind\'s '}${opts.ignoreErr!.value === 'all' ? 'all certificate errors ignored' : 'certificate errors ignored'} lets clients without a certificate and clients with a foreign certificate in`
            : anonymousIn
              ? 'verify optional lets clients without a certificate in, and no http-request deny rule refuses them (ssl_c_verify is 0 when no certificate was sent: test ssl_c_used)'
              : `${opts.ignoreErr!.raw === 'all' ? 'ignoring all certificate errors' : 'ignoring certificate errors'} lets clients with a foreign certificate through the handshake, and no rule checks ssl_c_verify 0`;
          emit(finding(opts.verify!.file, opts.verify!, 'warning', 'leg2-optional-unchecked', `${where}: ${why}, so Leg 2 is open. Add http-request deny unless { ssl_c_used } { ssl_c_verify 0 }${opts.ignoreErr ? '' : ', or use verify required'}.`, { ...data, verifyClient: ref(ctx, anchor), suggestedValue: 'required' }), more);
        }
      }
      if (opts.caFile && ctx.settings.checkCaFiles !== false) {
        const written = opts.caFile.value;
        if (written.includes('${')) return;
        const resolved = resolveFile(ctx, written, bases.ca);
        const verdicts = memo(ctx, `ca-verdicts\0${resolved}\0${written}`, () => judgeCaFile(readCa(ctx, resolved), ctx.now, written));
        if (written === serverCaPath('haproxy', ctx.settings.serverCaPath) && verdicts[0]?.problem === 'missing') {
          // The server-side place the quick-fixes write: on a workstation it is normally absent.
          emit(finding(opts.caFile.file, opts.caFile, 'information', 'leg2-ca-file', `${written} is not on this machine, so it was not checked. Install Cloudflare's origin-pull CA (or your own AOP CA) there on the server; haproxy refuses to start while it is missing.`, { ...data, clientCa: ref(ctx, anchor), caPath: written, caPathResolved: resolved, caProblem: 'missing' }), more);
          return;
        }
        for (const verdict of verdicts) {
          emit(finding(opts.caFile.file, opts.caFile, verdict.severity, 'leg2-ca-file', verdict.message, {
            ...data, clientCa: ref(ctx, anchor), caPath: written, caPathResolved: resolved, caProblem: verdict.problem,
            caSubject: verdict.subject, caFingerprint256: verdict.fingerprint256, caNotAfter: verdict.notAfter,
          }), more);
        }
      }
    };
    const where = `bind ${bind.args[0]?.value ?? ''} in ${section.name} ${name}`;
    if (o.crt.length) judge(o, bind, bindRange, where);
    for (const listArg of o.crtList) {
      if (listArg.value.includes('${')) continue;
      const file = resolveFile(ctx, listArg.value, bases.crt);
      const pf = loadParsedFile(ctx, file, (text, f) => parseCrtList(text, f));
      if (!pf) {
        emit(finding(bind.file, listArg, 'error', 'unreadable', `Cannot read the crt-list ${listArg.value} (looked for ${file}): haproxy -c fails ("cannot open file"), and its lines could not be checked.`, { dialect: 'haproxy', directive: ref(ctx, bind) }));
        continue;
      }
      bind.included = [...(bind.included ?? []), pf];
      for (const entry of pf.directives as HaproxyDirective[]) {
        const lineOpts = readOptions(entry.sslOptions ?? [], 0, entry.file);
        const merged: SslOptions = { ...o, verify: lineOpts.verify ?? o.verify, caFile: lineOpts.caFile ?? o.caFile, ignoreErr: lineOpts.ignoreErr ?? o.ignoreErr };
        const names = (entry.sniFilters ?? []).map(a => a.value).filter(v => !v.startsWith('!'));
        // a line whose SNI names are all in mtls.lint.ignoreServerNames is not behind Cloudflare
        if (names.length && names.every(n => (ctx.settings.ignoreServerNames ?? []).some(p => serverNameMatches(n, p)))) continue;
        const entryIgnores = new LazyIgnores(() => blockIgnores(ctx, entry));
        const sni = (entry.sniFilters ?? []).map(a => a.value).join(' ');
        const lineWhere = `crt-list line ${entry.name}${sni ? ` (${sni})` : ''} of ${where}`;
        // An open line is flagged in the crt-list; values written on the bind line are flagged there.
        const open = !merged.verify || merged.verify.value === 'none';
        const anchor = open || lineOpts.verify ? entry : bind;
        judge(merged, anchor, anchor === entry ? entry : bindRange, lineWhere, entryIgnores);
      }
    }
  }
}
