// Quick-fixes for origin-config findings. Pure: text + finding in, named fixes out, each fix a
// list of text edits in the file's own indentation and line endings. No vscode, no fs.
//
// Edit ranges use the linter's convention: 1-based lines and columns (UTF-16 code units, a tab is one
// column), end exclusive. To convert to VS Code: new Range(line-1, column-1, endLine-1, endColumn-1).
// Edits of one fix never overlap; apply them all at once (applyEdits, or one WorkspaceEdit).
import type { Dialect, Finding, ParsedFile, RuleCode } from '../types';
import {
  Pos, SNode, Structure, childrenNamed, comparePos, innermost, readStructure, sameName, walk,
} from './structure';

import { detectDialect } from '../detect';
import { DIALECTS } from '../dialects';

export { readStructure, detectIndentUnit } from './structure';

export interface EditRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface TextEdit {
  range: EditRange;
  newText: string;
}

export type FixKind =
  | 'require-client-cert' // add the missing AOP directives to a TLS server/vhost
  | 'add-client-ca' // add the CA directive next to the verification directive
  | 'set-required' // optional -> on / require
  | 'add-verify-check' // nginx if ($ssl_client_verify != SUCCESS) { return 403; }, Apache <If> ... Require all denied
  | 'fix-value' // invalid value -> the valid one
  | 'move-to-client-ca' // ssl_trusted_certificate -> ssl_client_certificate
  | 'set-verify-depth' // add or lower the verify depth
  | 'replace-ca' // point the CA directive at another CA
  | 'move-to-server' // nginx: client verification written in a location, moved to its server block
  | 'move-to-vhost' // Apache: per-directory SSLVerifyClient, moved to the virtual host
  | 'ignore'; // add `# mtls-lint: ignore <code>` to the block

/** A CA a fix can point the config at. */
export interface CaChoice {
  /** Path of the CA on the server, written into the config (never a path of the machine running the fix). */
  path: string;
  /** Local file with the CA's content (the bundled origin-pull CA, a workspace CA), for a copy beside the config. */
  source?: string;
  /** Short name for titles: 'origin-pull CA', 'workspace CA Acme Root', ... */
  label: string;
  kind: 'origin-pull' | 'workspace' | 'typed';
}

export interface Fix {
  kind: FixKind;
  code: RuleCode;
  title: string;
  edits: TextEdit[];
  /** The obvious fix for this finding (VS Code's isPreferred). */
  isPreferred?: boolean;
  /** The CA this fix writes, for fixes made per CA choice. */
  ca?: CaChoice;
}

export interface FixOptions {
  /** CAs to offer for fixes that need one; one fix per choice, in this order. */
  cas?: CaChoice[];
  /** Forced dialect; else finding.data.dialect, else guessed from the text. */
  dialect?: Dialect;
  /** Verify depth to write (default: finding.data.suggestedDepth, else 1). */
  depth?: number;
  /** The linter's parse tree of exactly `text` (from lintTextDetailed), to skip parsing it again. */
  parsed?: ParsedFile;
}

const VERIFY = { nginx: 'ssl_verify_client', apache: 'SSLVerifyClient' } as const;
const DEPTH = { nginx: 'ssl_verify_depth', apache: 'SSLVerifyDepth' } as const;
const CLIENT_CA = { nginx: 'ssl_client_certificate', apache: 'SSLCACertificateFile' } as const;
const REQUIRED = { nginx: 'on', apache: 'require' } as const;
const CA_DIRECTIVES = {
  nginx: ['ssl_client_certificate', 'ssl_trusted_certificate'],
  apache: ['SSLCACertificateFile', 'SSLCACertificatePath'],
};
const VALID_VERIFY = { nginx: ['on', 'off', 'optional', 'optional_no_ca'], apache: ['none', 'off', 'optional', 'require', 'on', 'optional_no_ca'] }; // mod_ssl reads on/off as require/none

function guessDialect(text: string): 'nginx' | 'apache' {
  return /^\s*<(VirtualHost|IfModule|Directory|Location)\b/im.test(text) || /^\s*SSL[A-Z]\w+\s/m.test(text) ? 'apache' : 'nginx';
}

function isBlockNode(n: SNode, d: 'nginx' | 'apache'): boolean {
  return d === 'nginx' ? n.name === 'server' && !!n.children : sameName(n.name, 'VirtualHost', d) && !!n.children;
}

/** A path as a config argument: quoted when it holds characters the server would split on. */
export function quoteArg(value: string, dialect: Dialect): string {
  if (value && !/[\s;{}#"'\\]/.test(value)) return value;
  if (dialect === 'nginx') return '"' + value.replace(/["\\$]/g, m => (m === '$' ? '${dollar}' : '\\' + m)).replace(/\$\{dollar\}/g, '$') + '"';
  return '"' + value.replace(/"/g, '\\"') + '"';
}

/** Applies non-overlapping edits (any order) to text. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const starts = lineStarts(text);
  const off = (line: number, column: number) => {
    if (line > starts.length) return text.length;
    return Math.min(starts[line - 1] + column - 1, line < starts.length ? starts[line] : text.length);
  };
  const abs = edits.map(e => ({ from: off(e.range.line, e.range.column), to: off(e.range.endLine, e.range.endColumn), text: e.newText }));
  abs.sort((a, b) => b.from - a.from || b.to - a.to);
  let out = text;
  for (const e of abs) out = out.slice(0, e.from) + e.text + out.slice(e.to);
  return out;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') starts.push(i + 1);
    else if (c === '\r' && text[i + 1] !== '\n') starts.push(i + 1);
  }
  return starts;
}

/** The dialects quick-fixes are written for. */
type FixDialect = 'nginx' | 'apache';

// ------------------------------------------------------------------------------------------- context

interface Ctx {
  text: string;
  finding: Finding;
  d: FixDialect;
  s: Structure;
  at: Pos;
  /** The server / VirtualHost the finding is in. */
  block?: SNode;
  /** The directive the finding is on. */
  directive?: SNode;
}

function context(text: string, finding: Finding, options: FixOptions): Ctx {
  const given: Dialect = options.dialect ?? finding.data?.dialect ?? guessDialect(text);
  // Quick-fixes exist for the dialects below; for any other the caller gets none (computeFixes catches this).
  if (given !== 'nginx' && given !== 'apache') throw new Error(`no quick-fixes for ${given}`);
  const d: FixDialect = given;
  const s = readStructure(text, d, options.parsed, finding.file);
  const at: Pos = { line: finding.line, column: finding.column };
  let block = innermost(s.nodes, at, n => isBlockNode(n, d));
  // The finding may sit outside the block (e.g. an inherited http-level directive): use data.block.
  const b = finding.data?.block;
  if (!block && b && samePath(b.file, finding.file)) {
    walk(s.nodes, n => { if (!block && isBlockNode(n, d) && n.start.line === b.line) block = n; });
  }
  const directive = innermost(s.nodes, at, n => !n.children || comparePos(at, n.bodyStart ?? n.end) < 0);
  return { text, finding, d, s, at, block, directive };
}

function samePath(a: string, b: string): boolean {
  return a.replace(/\\/g, '/') === b.replace(/\\/g, '/');
}

/** Indentation for a new directive inside `block`. */
function innerIndent(c: Ctx, block: SNode): string {
  const child = block.children?.find(ch => ch.indent !== undefined);
  if (child) return child.indent!;
  return (block.indent ?? '') + c.s.indentUnit;
}

/** Where to insert new TLS directives in a block: after its last ssl/SSL directive, else after the opening. */
function insertionPoint(c: Ctx, block: SNode): { after?: SNode; pos: Pos } {
  const kids = block.children ?? [];
  const isTls = (n: SNode) => !n.children && (c.d === 'nginx' ? /^ssl_/.test(n.name) || n.name === 'listen' || n.name === 'server_name' : /^(SSL|ServerName$|ServerAlias$)/i.test(n.name));
  let after: SNode | undefined;
  for (const k of kids) if (isTls(k)) after = k;
  if (after) return { after, pos: after.end };
  return { pos: block.bodyStart ?? block.end };
}

/** Edit that inserts `lines` (without indentation) as new lines after position p, in `indent`. */
function insertLinesAfter(c: Ctx, p: Pos, indent: string, lines: string[]): TextEdit {
  const eol = c.s.eol;
  const lineText = c.s.lines[p.line - 1] ?? '';
  const rest = lineText.slice(p.column - 1);
  const restIsBlank = /^\s*(#.*)?$/.test(rest);
  const body = lines.map(l => (l ? indent + l : l));
  if (restIsBlank) {
    if (p.line < c.s.lines.length) {
      return { range: { line: p.line + 1, column: 1, endLine: p.line + 1, endColumn: 1 }, newText: body.map(l => l + eol).join('') };
    }
    const end = lineText.length + 1;
    return { range: { line: p.line, column: end, endLine: p.line, endColumn: end }, newText: body.map(l => eol + l).join('') };
  }
  // Code follows on the same line (`server { listen 443 ssl; }`): break the line before it.
  const closingIndent = c.block && c.block.bodyEnd && c.block.bodyEnd.line === p.line ? c.block.indent ?? '' : indent;
  return { range: { line: p.line, column: p.column, endLine: p.line, endColumn: p.column }, newText: body.map(l => eol + l).join('') + eol + closingIndent };
}

function replaceArg(node: SNode, index: number, newRaw: string): TextEdit | undefined {
  const a = node.args[index];
  if (!a) return undefined;
  return { range: { line: a.start.line, column: a.start.column, endLine: a.end.line, endColumn: a.end.column }, newText: newRaw };
}

/** Merges inserts at the same position into one edit, so the result does not depend on how an editor orders them. */
function mergeEdits(edits: TextEdit[]): TextEdit[] {
  const out: TextEdit[] = [];
  for (const e of edits) {
    const r = e.range;
    const same = out.find(o => o.range.line === r.line && o.range.column === r.column && o.range.endLine === r.line && o.range.endColumn === r.column && r.endLine === r.line && r.endColumn === r.column);
    if (same) same.newText += e.newText;
    else out.push({ range: { ...r }, newText: e.newText });
  }
  return out;
}

function nodeInBlock(c: Ctx, block: SNode | undefined, name: string): SNode | undefined {
  const all = childrenNamed(block, name, c.d);
  return all[all.length - 1];
}

/** The directive named `name` in effect at the block: in the block, else at an enclosing level of this file. */
function inEffect(c: Ctx, block: SNode | undefined, name: string): SNode | undefined {
  for (let s: SNode | undefined = block; s; s = s.parent) {
    const n = nodeInBlock(c, s, name);
    if (n) return n;
  }
  if (!block) return undefined;
  // top level of the file (nginx http context in a sites file, Apache server config)
  const top = c.s.nodes.filter(n => sameName(n.name, name, c.d));
  return top.find(n => comparePos(n.start, block.start) < 0);
}

function depthWanted(c: Ctx, options: FixOptions): number {
  return options.depth ?? c.finding.data?.suggestedDepth ?? 1;
}

function lineForDirective(d: 'nginx' | 'apache', name: string, ...args: string[]): string {
  return d === 'nginx' ? `${name} ${args.join(' ')};` : `${name} ${args.join(' ')}`;
}

function caTitleSuffix(ca: CaChoice): string {
  return ca.kind === 'origin-pull' ? 'Cloudflare origin-pull CA' : ca.label;
}

// ------------------------------------------------------------------------------------------- fixes

/** The fixes for one finding. Empty when none applies (or the text no longer matches the finding). */
export function computeFixes(text: string, finding: Finding, options: FixOptions = {}): Fix[] {
  try {
    // A dialect with fixes of its own (the dialect table) builds them from its own parse tree.
    const dialect = options.dialect ?? finding.data?.dialect ?? detectDialect(finding.file, text);
    const own = dialect ? DIALECTS[dialect]?.fixes : undefined;
    if (own) return own(text, finding, options);
    const c = context(text, finding, options);
    const out: Fix[] = [];
    switch (finding.code) {
      case 'leg2-no-client-auth':
        for (const ca of options.cas ?? []) pushIf(out, requireClientCert(c, ca, options, out.length === 0));
        break;
      case 'leg2-no-ca':
        pushIf(out, moveTrustedToClient(c, true));
        for (const ca of options.cas ?? []) pushIf(out, addClientCa(c, ca, out.length === 0));
        break;
      case 'leg2-optional-unchecked':
        pushIf(out, setRequired(c, true));
        pushIf(out, addVerifyCheck(c));
        break;
      case 'leg2-invalid-value':
        pushIf(out, fixValue(c));
        pushIf(out, moveVerificationUp(c, 'move-to-server'));
        break;
      case 'leg2-per-directory-verify':
        pushIf(out, moveVerificationUp(c, 'move-to-vhost'));
        break;
      case 'leg2-trusted-not-sent':
        pushIf(out, moveTrustedToClient(c, true));
        break;
      case 'leg2-verify-depth':
        pushIf(out, setVerifyDepth(c, options));
        break;
      case 'leg2-ca-file': {
        const problem = finding.data?.caProblem;
        if (problem !== 'origin-pull-shared') {
          const cas = (options.cas ?? []).filter(ca => !finding.data?.caPathResolved || ca.path !== finding.data.caPathResolved);
          // the Cloudflare Origin CA in place of the origin-pull CA: replacing it is the obvious fix
          cas.forEach((ca, k) => pushIf(out, replaceCa(c, ca, k === 0 && (problem === 'cloudflare-origin-ca' || ca.kind === 'origin-pull'))));
        }
        break;
      }
      default:
        break;
    }
    if (finding.code.startsWith('leg2-')) pushIf(out, ignoreFix(c));
    return out.map(f => ({ ...f, edits: mergeEdits(f.edits) }));
  } catch {
    return [];
  }
}

function pushIf(out: Fix[], f: Fix | undefined): void {
  if (f && f.edits.length) out.push(f);
}

/** leg2-no-client-auth: ssl_client_certificate + ssl_verify_client on + ssl_verify_depth (nginx); SSLVerifyClient require + SSLVerifyDepth + SSLCACertificateFile (Apache). */
function requireClientCert(c: Ctx, ca: CaChoice, options: FixOptions, preferred: boolean): Fix | undefined {
  const block = c.block;
  if (!block) return undefined;
  const d = c.d;
  const edits: TextEdit[] = [];
  const add: string[] = [];
  const indent = innerIndent(c, block);
  // verification: replace a value in the block, else insert (overrides anything inherited)
  const verify = nodeInBlock(c, block, VERIFY[d]);
  const caNode = CA_DIRECTIVES[d].map(n => inEffect(c, block, n)).find(n => n && (d === 'apache' || n.name === 'ssl_client_certificate'));
  const depthNode = inEffect(c, block, DEPTH[d]);
  if (d === 'nginx') {
    if (!caNode) add.push(lineForDirective(d, CLIENT_CA[d], quoteArg(ca.path, d)));
    if (verify) { const e = replaceArg(verify, 0, REQUIRED[d]); if (e) edits.push(e); } else add.push(lineForDirective(d, VERIFY[d], REQUIRED[d]));
    if (!depthNode) add.push(lineForDirective(d, DEPTH[d], String(depthWanted(c, options))));
  } else {
    if (verify) { const e = replaceArg(verify, 0, REQUIRED[d]); if (e) edits.push(e); } else add.push(lineForDirective(d, VERIFY[d], REQUIRED[d]));
    if (!depthNode) add.push(lineForDirective(d, DEPTH[d], String(depthWanted(c, options))));
    if (!caNode) add.push(lineForDirective(d, CLIENT_CA[d], quoteArg(ca.path, d)));
  }
  if (add.length) {
    const { pos } = insertionPoint(c, block);
    edits.push(insertLinesAfter(c, pos, indent, add));
  }
  const title = caNode
    ? `Require a client certificate (${d === 'nginx' ? 'ssl_verify_client on' : 'SSLVerifyClient require'})`
    : ca.kind === 'origin-pull' ? 'Require Cloudflare client certificate (origin-pull CA)' : `Require client certificate (${ca.label})`;
  return { kind: 'require-client-cert', code: c.finding.code, title, edits, isPreferred: preferred, ca: caNode ? undefined : ca };
}

/** leg2-no-ca: the CA directive, right after the verification directive (or in the block). */
function addClientCa(c: Ctx, ca: CaChoice, preferred: boolean): Fix | undefined {
  const d = c.d;
  const verify = c.directive && sameName(c.directive.name, VERIFY[d], d) ? c.directive : (nodeInBlock(c, c.block, VERIFY[d]) ?? inEffect(c, c.block, VERIFY[d]));
  const line = lineForDirective(d, CLIENT_CA[d], quoteArg(ca.path, d));
  let edit: TextEdit | undefined;
  if (verify && verify.indent !== undefined) edit = insertLinesAfter(c, verify.end, verify.indent, [line]);
  else if (c.block) edit = insertLinesAfter(c, insertionPoint(c, c.block).pos, innerIndent(c, c.block), [line]);
  if (!edit) return undefined;
  return { kind: 'add-client-ca', code: c.finding.code, title: `Add client CA: ${caTitleSuffix(ca)} (${CLIENT_CA[d]})`, edits: [edit], isPreferred: preferred, ca };
}

/** The verification directive the finding is about (the finding's own directive, else the one in effect). */
function verifyDirective(c: Ctx): SNode | undefined {
  const d = c.d;
  if (c.directive && sameName(c.directive.name, VERIFY[d], d)) return c.directive;
  const dv = c.finding.data?.verifyClient ?? c.finding.data?.directive;
  if (dv && samePath(dv.file, c.finding.file)) {
    let hit: SNode | undefined;
    walk(c.s.nodes, n => { if (!hit && sameName(n.name, VERIFY[d], d) && n.start.line === dv.line) hit = n; });
    if (hit) return hit;
  }
  return nodeInBlock(c, c.block, VERIFY[d]) ?? inEffect(c, c.block, VERIFY[d]);
}

/** leg2-optional-unchecked: optional -> on / require. */
function setRequired(c: Ctx, preferred: boolean): Fix | undefined {
  const v = verifyDirective(c);
  if (!v) return undefined;
  const e = replaceArg(v, 0, REQUIRED[c.d]);
  if (!e) return undefined;
  return { kind: 'set-required', code: c.finding.code, title: `Require the client certificate (${VERIFY[c.d]} ${REQUIRED[c.d]})`, edits: [e], isPreferred: preferred };
}

/** leg2-optional-unchecked: keep optional, reject unverified clients (nginx `if`, Apache `<If>`). */
function addVerifyCheck(c: Ctx): Fix | undefined {
  const block = c.block;
  if (!block) return undefined;
  const unit = c.s.indentUnit;
  const indent = innerIndent(c, block);
  const lines = c.d === 'nginx'
    ? ['if ($ssl_client_verify != SUCCESS) {', `${unit}return 403;`, '}']
    : [`<If "%{SSL_CLIENT_VERIFY} != 'SUCCESS'">`, `${unit}Require all denied`, '</If>'];
  const v = nodeInBlock(c, block, VERIFY[c.d]);
  const pos = v && v.indent !== undefined ? v.end : insertionPoint(c, block).pos;
  const title = c.d === 'nginx' ? 'Reject unverified clients: if ($ssl_client_verify != SUCCESS) { return 403; }' : `Reject unverified clients: <If "%{SSL_CLIENT_VERIFY} != 'SUCCESS'"> Require all denied`;
  return { kind: 'add-verify-check', code: c.finding.code, title, edits: [insertLinesAfter(c, pos, indent, lines)] };
}

/** leg2-invalid-value: the value the server accepts (nginx `require` -> `on`, Apache `required` -> `require`). */
function fixValue(c: Ctx): Fix | undefined {
  const d = c.d;
  const node = c.directive && !c.directive.children ? c.directive : undefined;
  if (!node || !node.args.length) return undefined;
  // the argument under the finding, else the first
  let idx = node.args.findIndex(a => comparePos(a.start, c.at) <= 0 && comparePos(c.at, a.end) < 0);
  if (idx < 0) idx = 0;
  const cur = node.args[idx].value.toLowerCase();
  let value = c.finding.data?.suggestedValue ?? c.finding.data?.validValues?.[0];
  if (!value && sameName(node.name, VERIFY[d], d)) {
    const map: Record<string, string> = d === 'nginx'
      ? { require: 'on', required: 'on', yes: 'on', true: 'on', none: 'off', no: 'off', false: 'off' }
      : { required: 'require', yes: 'require', true: 'require', no: 'none', false: 'none' };
    value = map[cur] ?? (VALID_VERIFY[d].includes(cur) ? undefined : REQUIRED[d]);
  }
  if (!value || value === node.args[idx].value) return undefined;
  const e = replaceArg(node, idx, value);
  return e && { kind: 'fix-value', code: c.finding.code, title: `Change '${node.args[idx].value}' to '${value}'`, edits: [e], isPreferred: true };
}

/** leg2-trusted-not-sent / leg2-no-ca with the CA in ssl_trusted_certificate: rename the directive. */
function moveTrustedToClient(c: Ctx, preferred: boolean): Fix | undefined {
  if (c.d !== 'nginx') return undefined;
  let t = c.directive && c.directive.name === 'ssl_trusted_certificate' ? c.directive : undefined;
  if (!t) {
    const dt = c.finding.data?.trustedCa;
    if (dt && samePath(dt.file, c.finding.file)) walk(c.s.nodes, n => { if (!t && n.name === 'ssl_trusted_certificate' && n.start.line === dt.line) t = n; });
  }
  t ??= inEffect(c, c.block, 'ssl_trusted_certificate');
  if (!t) return undefined;
  // keep it when ssl_client_certificate already exists there
  if (inEffect(c, c.block ?? t.parent, 'ssl_client_certificate')) return undefined;
  const edit: TextEdit = { range: { line: t.start.line, column: t.start.column, endLine: t.start.line, endColumn: t.start.column + t.name.length }, newText: 'ssl_client_certificate' };
  return { kind: 'move-to-client-ca', code: c.finding.code, title: 'Move the CA from ssl_trusted_certificate to ssl_client_certificate', edits: [edit], isPreferred: preferred };
}

/** leg2-verify-depth: lower the depth, or add it after the verification directive. */
function setVerifyDepth(c: Ctx, options: FixOptions): Fix | undefined {
  const d = c.d;
  const depth = depthWanted(c, options);
  const existing = (c.directive && sameName(c.directive.name, DEPTH[d], d) ? c.directive : undefined) ?? nodeInBlock(c, c.block, DEPTH[d]) ?? inEffect(c, c.block, DEPTH[d]);
  let edit: TextEdit | undefined;
  if (existing) {
    if (existing.args[0]?.value === String(depth)) return undefined;
    edit = replaceArg(existing, 0, String(depth));
  } else {
    const v = verifyDirective(c);
    const line = lineForDirective(d, DEPTH[d], String(depth));
    if (v && v.indent !== undefined) edit = insertLinesAfter(c, v.end, v.indent, [line]);
    else if (c.block) edit = insertLinesAfter(c, insertionPoint(c, c.block).pos, innerIndent(c, c.block), [line]);
  }
  return edit && { kind: 'set-verify-depth', code: c.finding.code, title: `Set ${DEPTH[d]} ${depth}`, edits: [edit], isPreferred: true };
}

/** leg2-ca-file: point the CA directive at another CA. */
function replaceCa(c: Ctx, ca: CaChoice, preferred: boolean): Fix | undefined {
  const d = c.d;
  const names = CA_DIRECTIVES[d];
  let node = c.directive && names.some(n => sameName(n, c.directive!.name, d)) ? c.directive : undefined;
  const dc = c.finding.data?.clientCa ?? c.finding.data?.directive;
  if (!node && dc && samePath(dc.file, c.finding.file)) walk(c.s.nodes, n => { if (!node && names.some(x => sameName(x, n.name, d)) && n.start.line === dc.line) node = n; });
  if (!node || !node.args.length) return undefined;
  // SSLCACertificatePath names a folder: switch to SSLCACertificateFile with the file
  const edits: TextEdit[] = [];
  if (d === 'apache' && !sameName(node.name, 'SSLCACertificateFile', d)) {
    edits.push({ range: { line: node.start.line, column: node.start.column, endLine: node.start.line, endColumn: node.start.column + node.name.length }, newText: 'SSLCACertificateFile' });
  }
  edits.push(replaceArg(node, 0, quoteArg(ca.path, d))!);
  return { kind: 'replace-ca', code: c.finding.code, title: `Use ${ca.kind === 'origin-pull' ? 'the Cloudflare origin-pull CA' : ca.label} as the client CA`, edits, isPreferred: preferred, ca };
}

/** Any Leg 2 finding: `# mtls-lint: ignore <code>` as the first line of the block (sites not behind Cloudflare). */
function ignoreFix(c: Ctx): Fix | undefined {
  const block = c.block;
  if (!block || !block.bodyStart) return undefined;
  const edit = insertLinesAfter(c, block.bodyStart, innerIndent(c, block), [`# mtls-lint: ignore ${c.finding.code}`]);
  const what = c.d === 'nginx' ? 'server block' : 'virtual host';
  return { kind: 'ignore', code: c.finding.code, title: `Ignore ${c.finding.code} in this ${what} (not behind Cloudflare)`, edits: [edit] };
}

/** The whole lines a directive occupies (with its line end), when nothing else shares them; else its own range. */
function removalRange(c: Ctx, n: SNode): EditRange {
  const first = c.s.lines[n.start.line - 1] ?? '';
  const last = c.s.lines[n.end.line - 1] ?? '';
  const alone = n.indent !== undefined && /^\s*(#.*)?$/.test(last.slice(n.end.column - 1)) && first.slice(0, n.start.column - 1).trim() === '';
  if (!alone) return { line: n.start.line, column: n.start.column, endLine: n.end.line, endColumn: n.end.column };
  if (n.end.line < c.s.lines.length) return { line: n.start.line, column: 1, endLine: n.end.line + 1, endColumn: 1 };
  return { line: n.start.line, column: 1, endLine: n.end.line, endColumn: last.length + 1 };
}

/**
 * Client verification written where it does not work well: nginx `ssl_verify_client` inside a location
 * (nginx -t refuses it) or Apache `SSLVerifyClient` inside a <Location>/<Directory> (renegotiation or
 * post-handshake auth). The fix removes it there and requires the certificate in the server block / virtual
 * host, replacing the value of one already there.
 */
function moveVerificationUp(c: Ctx, kind: 'move-to-server' | 'move-to-vhost'): Fix | undefined {
  const d = c.d;
  if ((kind === 'move-to-server') !== (d === 'nginx')) return undefined;
  const node = c.directive && sameName(c.directive.name, VERIFY[d], d) ? c.directive : undefined;
  if (!node || !node.parent) return undefined;
  let block: SNode | undefined = node.parent;
  while (block && !isBlockNode(block, d)) block = block.parent;
  if (!block || node.parent === block) return undefined;
  const edits: TextEdit[] = [{ range: removalRange(c, node), newText: '' }];
  const existing = nodeInBlock(c, block, VERIFY[d]);
  if (existing) {
    const e = replaceArg(existing, 0, REQUIRED[d]);
    if (e && existing.args[0]?.value !== REQUIRED[d]) edits.push(e);
  } else {
    const saved = c.block;
    c.block = block;
    edits.push(insertLinesAfter(c, insertionPoint(c, block).pos, innerIndent(c, block), [lineForDirective(d, VERIFY[d], REQUIRED[d])]));
    c.block = saved;
  }
  const where = d === 'nginx' ? 'the server block' : 'the virtual host';
  return { kind, code: c.finding.code, title: `Move client verification to ${where} (${VERIFY[d]} ${REQUIRED[d]})`, edits, isPreferred: true };
}
