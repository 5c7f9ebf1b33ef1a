// Quick-fixes for Caddyfile findings, built from the Caddy parser's tree of the file's current text (the
// same parser the rules use). Pure: text + finding in, fixes out.
import type { CaChoice, Fix, FixOptions, TextEdit } from '../fixes';
import type { CaddyDirective, Finding, ParsedFile } from '../types';
import { parseCaddy } from './parser';
import { contains, insertAt, insertLinesAfterLine, replaceRange, restIsBlank, TextInfo, textInfo } from './edit';

import { CADDY_ORIGIN_PULL_CA } from './analyze';

export { CADDY_ORIGIN_PULL_CA };

/** A path as a Caddyfile token: quoted when it holds blanks, quotes or braces. */
export function caddyArg(value: string): string {
  if (value && !/[\s"'`{}#\\]/.test(value)) return value;
  return '"' + value.replace(/["\\]/g, m => '\\' + m) + '"';
}

interface Ctx {
  t: TextInfo;
  finding: Finding;
  site?: CaddyDirective;
  tls?: CaddyDirective;
  auth?: CaddyDirective;
  mode?: CaddyDirective;
  cas: CaddyDirective[];
}

function lastNamed(ds: CaddyDirective[] | undefined, name: string): CaddyDirective | undefined {
  let hit: CaddyDirective | undefined;
  for (const d of ds ?? []) if (d.name === name) hit = d;
  return hit;
}

function context(text: string, finding: Finding, parsed?: ParsedFile): Ctx {
  // the linter's tree when it is the tree of this very text, else this file parsed now
  const pf = parsed?.dialect === 'caddy' && parsed.file === finding.file ? parsed : parseCaddy(text, finding.file);
  const top = pf.directives as CaddyDirective[];
  const at = { line: finding.line, column: finding.column };
  // the block (site or snippet) holding the finding; a file that is one site without braces is its own site
  let site = top.find(d => d.block && d.name !== '' && contains(d, at.line, at.column));
  if (!site && top.length && !top[0].block) {
    const body = top.slice(1);
    site = { ...top[0], block: body, endLine: body.length ? body[body.length - 1].endLine : top[0].endLine, endColumn: body.length ? body[body.length - 1].endColumn : top[0].endColumn };
  }
  // the site's own tls, else the tls of a snippet of this file that the site imports
  let tls = lastNamed(site?.block as CaddyDirective[] | undefined, 'tls');
  for (const imp of ((site?.block ?? []) as CaddyDirective[]).filter(d => d.name === 'import' && d.args[0])) {
    const snippet = top.find(d => d.block && d.name === `(${imp.args[0].value})`);
    tls ??= lastNamed(snippet?.block as CaddyDirective[] | undefined, 'tls');
  }
  // a client_auth under the finding (it may sit in a snippet), else the site's
  let auth: CaddyDirective | undefined;
  for (const d of top) for (const t of (d.block ?? []) as CaddyDirective[]) if (t.name === 'tls') for (const a of (t.block ?? []) as CaddyDirective[]) if (a.name === 'client_auth' && contains(a, at.line, at.column)) auth = a;
  auth ??= lastNamed(tls?.block as CaddyDirective[] | undefined, 'client_auth');
  const subs = (auth?.block ?? []) as CaddyDirective[];
  return { t: textInfo(text), finding, site, tls, auth, mode: lastNamed(subs, 'mode'), cas: subs.filter(s => s.name === 'trusted_ca_cert_file' || s.name === 'trusted_ca_cert') };
}

function childIndent(c: Ctx, block: CaddyDirective): string {
  const first = (block.block ?? [])[0] as CaddyDirective | undefined;
  if (first && first.indent && first.line > block.line) return first.indent;
  return block.indent + c.t.unit;
}

/** Lines inserted as the first lines of a block (after its `{`). */
function insertInBlock(c: Ctx, block: CaddyDirective, lines: string[]): TextEdit | undefined {
  const indent = childIndent(c, block);
  if (!block.openBrace) {
    // a site without braces: its directives follow the address line, unindented
    return insertLinesAfterLine(c.t, block.nameRange.endLine, lines.map(l => block.indent + l));
  }
  if (!restIsBlank(c.t, block.openBrace.endLine, block.openBrace.endColumn)) {
    const close = block.closeBrace && block.closeBrace.line === block.openBrace.line ? c.t.eol + block.indent : '';
    return insertAt(block.openBrace.endLine, block.openBrace.endColumn, lines.map(l => c.t.eol + indent + l).join('') + close);
  }
  return insertLinesAfterLine(c.t, block.openBrace.endLine, lines.map(l => indent + l));
}

function authLines(c: Ctx, ca: CaChoice): string[] {
  return ['client_auth {', `${c.t.unit}mode require_and_verify`, `${c.t.unit}trusted_ca_cert_file ${caddyArg(ca.path)}`, '}'];
}

/** The fixes for one Caddy finding. */
export function computeCaddyFixes(text: string, finding: Finding, options: FixOptions = {}): Fix[] {
  const c = context(text, finding, options.parsed);
  const out: Fix[] = [];
  const push = (f: Fix | undefined) => { if (f && f.edits.length) out.push(f); };
  const cas = options.cas ?? [];
  switch (finding.code) {
    case 'leg2-no-client-auth':
      cas.forEach((ca, k) => push(requireClientCert(c, ca, k === 0)));
      break;
    case 'leg2-no-ca':
      cas.forEach((ca, k) => push(addCa(c, ca, k === 0)));
      break;
    case 'leg2-optional-unchecked':
      if (c.cas.length) push(setMode(c, 'set-required', true));
      else cas.forEach((ca, k) => push(addCa(c, ca, k === 0)));
      break;
    case 'leg2-invalid-value':
      push(setMode(c, 'fix-value', true));
      break;
    case 'leg2-ca-file':
      if (finding.data?.caProblem !== 'origin-pull-shared') {
        cas.filter(ca => ca.path !== finding.data?.caPathResolved && ca.path !== finding.data?.caPath)
          .forEach((ca, k) => push(replaceCa(c, ca, k === 0)));
      }
      break;
    default:
      break;
  }
  if (finding.code.startsWith('leg2-')) push(ignoreFix(c));
  return out;
}

function caTitle(ca: CaChoice): string {
  return ca.kind === 'origin-pull' ? `Cloudflare origin-pull CA at ${ca.path}` : ca.label;
}

/** leg2-no-client-auth: client_auth { mode require_and_verify; trusted_ca_cert_file ... } in the site's tls. */
function requireClientCert(c: Ctx, ca: CaChoice, preferred: boolean): Fix | undefined {
  if (!c.site) return undefined;
  const title = `Require a client certificate: client_auth require_and_verify (${caTitle(ca)})`;
  const fix = (edits: (TextEdit | undefined)[]): Fix => ({ kind: 'require-client-cert', code: c.finding.code, title, edits: edits.filter((e): e is TextEdit => !!e), isPreferred: preferred, ca });
  if (c.auth && c.auth.openBrace) {
    // an empty client_auth block: fill it
    return fix([insertInBlock(c, c.auth, ['mode require_and_verify', `trusted_ca_cert_file ${caddyArg(ca.path)}`])]);
  }
  if (c.tls && c.tls.openBrace) return fix([insertInBlock(c, c.tls, authLines(c, ca))]);
  if (c.tls) {
    // `tls cert key` / `tls internal` without a block: give it one
    const indent = c.tls.indent + c.t.unit;
    const body = authLines(c, ca).map(l => c.t.eol + indent + l).join('');
    return fix([insertAt(c.tls.endLine, c.tls.endColumn, ` {${body}${c.t.eol}${c.tls.indent}}`)]);
  }
  return fix([insertInBlock(c, c.site, ['tls {', ...authLines(c, ca).map(l => c.t.unit + l), '}'])]);
}

/** leg2-no-ca (and optional modes without a CA): the CA, and mode require_and_verify. */
function addCa(c: Ctx, ca: CaChoice, preferred: boolean): Fix | undefined {
  if (!c.auth || !c.auth.openBrace) return undefined;
  const edits: TextEdit[] = [];
  const caLine = `trusted_ca_cert_file ${caddyArg(ca.path)}`;
  if (c.mode && c.mode.args[0]) {
    if (c.mode.args[0].value !== 'require_and_verify') edits.push(replaceRange(c.mode.args[0], 'require_and_verify'));
    const indent = c.mode.indent || childIndent(c, c.auth);
    edits.push(insertLinesAfterLine(c.t, c.mode.endLine, [indent + caLine]));
  } else {
    edits.push(insertInBlock(c, c.auth, ['mode require_and_verify', caLine])!);
  }
  return { kind: 'add-client-ca', code: c.finding.code, title: `Verify client certificates against ${caTitle(ca)} (trusted_ca_cert_file, mode require_and_verify)`, edits, isPreferred: preferred, ca };
}

/** mode -> require_and_verify. */
function setMode(c: Ctx, kind: 'set-required' | 'fix-value', preferred: boolean): Fix | undefined {
  const v = c.mode?.args[0];
  if (!c.mode || !v || v.value === 'require_and_verify') return undefined;
  const title = kind === 'fix-value' ? `Change '${v.value}' to 'require_and_verify'` : 'Require and verify the client certificate (mode require_and_verify)';
  return { kind, code: c.finding.code, title, edits: [replaceRange(v, 'require_and_verify')], isPreferred: preferred };
}

/** leg2-ca-file: point trusted_ca_cert_file (or an inline trusted_ca_cert) at another CA. */
function replaceCa(c: Ctx, ca: CaChoice, preferred: boolean): Fix | undefined {
  const at = c.cas.find(d => contains(d, c.finding.line, c.finding.column)) ?? c.cas[c.cas.length - 1];
  if (!at || !at.args[0]) return undefined;
  const edits = [replaceRange(at.args[0], caddyArg(ca.path))];
  if (at.name !== 'trusted_ca_cert_file') edits.push(replaceRange(at.nameRange, 'trusted_ca_cert_file'));
  return { kind: 'replace-ca', code: c.finding.code, title: `Use ${caTitle(ca)} as the client CA`, edits, isPreferred: preferred, ca };
}

/** `# mtls-lint: ignore <code>` as the first line of the site. */
function ignoreFix(c: Ctx): Fix | undefined {
  if (!c.site) return undefined;
  const e = insertInBlock(c, c.site, [`# mtls-lint: ignore ${c.finding.code}`]);
  return e && { kind: 'ignore', code: c.finding.code, title: `Ignore ${c.finding.code} for this site (not behind Cloudflare)`, edits: [e] };
}
