// Shared machinery of the nginx and Apache rule passes: the lint context, directive references for
// quick-fixes, CA file reading, ignore markers.
import { BlockRef, Comment, Directive, DirectiveRef, Finding, FindingData, LintFs, LintOptions, LintSettings, ParsedFile, Range, RuleCode, Severity } from './types';
import { analyzeCaFile, CaFileAnalysis } from './ca';
import { LEG2_CODES } from './rules';

export interface LintContext {
  fs: LintFs;
  options: LintOptions;
  settings: LintSettings;
  now: Date;
  deadline: number;
  rootFile: string;
  /** Parsed files by path. */
  cache: Map<string, ParsedFile>;
  files: ParsedFile[];
  texts: Map<string, string>;
  findings: Finding[];
  caCache: Map<string, CaFileAnalysis | undefined>;
  markerCache: Map<string, Map<number, Set<string>>>;
  timedOut: boolean;
}

export function finding(file: string, r: Range, severity: Severity, code: RuleCode, message: string, data?: FindingData): Finding {
  const f: Finding = { file, line: r.line, column: r.column, endLine: r.endLine, endColumn: r.endColumn, severity, code, message };
  if (data) {
    for (const k of Object.keys(data) as (keyof FindingData)[]) if (data[k] === undefined) delete data[k];
    f.data = data;
  }
  return f;
}

/** Lines of a text, cached per context (split once). */
const linesCache = new WeakMap<LintContext, Map<string, string[]>>();
export function linesOf(ctx: LintContext, file: string): string[] {
  let m = linesCache.get(ctx);
  if (!m) { m = new Map(); linesCache.set(ctx, m); }
  let ls = m.get(file);
  if (!ls) {
    ls = (ctx.texts.get(file) ?? '').split('\n').map(l => (l.endsWith('\r') ? l.slice(0, -1) : l));
    m.set(file, ls);
  }
  return ls;
}

export function eolOf(ctx: LintContext, file: string): string {
  const t = ctx.texts.get(file) ?? '';
  const n = t.indexOf('\n');
  return n > 0 && t[n - 1] === '\r' ? '\r\n' : '\n';
}

/** The file's indentation unit: a tab, or the smallest positive run of leading spaces (default 4). */
export function indentUnitOf(ctx: LintContext, file: string): string {
  const lines = linesOf(ctx, file);
  let min = Infinity;
  for (const l of lines) {
    if (l.startsWith('\t')) return '\t';
    const m = /^( +)\S/.exec(l);
    if (m && m[1].length < min) min = m[1].length;
  }
  return min === Infinity || min > 8 ? '    ' : ' '.repeat(min);
}

function restOfLineIsBlank(ctx: LintContext, file: string, line: number, column: number, dialect: 'nginx' | 'apache'): boolean {
  const l = linesOf(ctx, file)[line - 1] ?? '';
  const rest = l.slice(column - 1).trim();
  return rest === '' || (dialect === 'nginx' && rest.startsWith('#'));
}

function textBefore(ctx: LintContext, file: string, line: number, column: number): string {
  return (linesOf(ctx, file)[line - 1] ?? '').slice(0, column - 1);
}

export function ref(ctx: LintContext, d: Directive): DirectiveRef {
  const r: DirectiveRef = { file: d.file, name: d.name, args: d.args.map(a => a.value), line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn, indent: d.indent };
  if (d.args.length) {
    const a = d.args[0];
    const z = d.args[d.args.length - 1];
    r.valueRange = { line: a.line, column: a.column, endLine: a.endLine, endColumn: a.endColumn };
    r.argsRange = { line: a.line, column: a.column, endLine: z.endLine, endColumn: z.endColumn };
  }
  if (textBefore(ctx, d.file, d.line, d.column).trim() === '' && restOfLineIsBlank(ctx, d.file, d.endLine, d.endColumn, d.dialect)) {
    const lines = linesOf(ctx, d.file);
    r.fullLinesRange = d.endLine < lines.length
      ? { line: d.line, column: 1, endLine: d.endLine + 1, endColumn: 1 }
      : { line: d.line, column: 1, endLine: d.endLine, endColumn: (lines[d.endLine - 1] ?? '').length + 1 };
  }
  return r;
}

/** Reference to a server / VirtualHost block, with where a fix inserts directives. */
export function blockRef(ctx: LintContext, d: Directive, kind: 'server' | 'VirtualHost', serverNames: string[], addresses: string[], lastTlsDirective?: Directive): BlockRef {
  const nginx = d.dialect === 'nginx';
  const open = nginx ? d.openBrace : d.openTag;
  const close = nginx ? d.closeBrace : d.closeTag;
  const bodyStart = open ? { line: open.endLine, column: open.endColumn } : { line: d.endLine, column: d.endColumn };
  const firstChild = (d.block ?? []).find(c => c.file === d.file && c.indent !== '' && c.line > bodyStart.line);
  const unit = indentUnitOf(ctx, d.file);
  const innerIndent = firstChild ? firstChild.indent : d.indent + unit;
  const anchor = lastTlsDirective && lastTlsDirective.file === d.file ? { line: lastTlsDirective.endLine, column: lastTlsDirective.endColumn } : bodyStart;
  let insertAt = anchor;
  let insertAtLineStart = false;
  if (restOfLineIsBlank(ctx, d.file, anchor.line, anchor.column, d.dialect) && (!close || close.line > anchor.line)) {
    insertAt = { line: anchor.line + 1, column: 1 };
    insertAtLineStart = true;
  }
  const b: BlockRef = {
    file: d.file, kind, serverNames, addresses,
    line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn,
    indent: d.indent, innerIndent, eol: eolOf(ctx, d.file), bodyStart, insertAt, insertAtLineStart,
  };
  if (close) b.bodyEnd = { line: close.line, column: close.column };
  return b;
}

// ------------------------------------------------------------------------------------------------
// Paths and CA files

export function readCa(ctx: LintContext, p: string): CaFileAnalysis | undefined {
  if (ctx.caCache.has(p)) return ctx.caCache.get(p);
  let a: CaFileAnalysis | undefined;
  if (ctx.fs.fileExists(p)) {
    const bytes = ctx.fs.readBytes ? ctx.fs.readBytes(p) : undefined;
    const data = bytes ?? (() => { const t = ctx.fs.readFile(p); return t === undefined ? undefined : Buffer.from(t, 'utf8'); })();
    a = data ? analyzeCaFile(data) : undefined;
  }
  ctx.caCache.set(p, a);
  return a;
}

// ------------------------------------------------------------------------------------------------
// `# mtls-lint: ignore code1 code2` / `# mtls-lint: ignore all` markers

const MARKER = /mtls-lint:\s*ignore(?:\s+|:\s*)([A-Za-z0-9_,\- ]+)/i;

export function markerCodes(c: Comment): string[] | undefined {
  const m = MARKER.exec(c.text);
  if (!m) return undefined;
  return m[1].split(/[\s,]+/).filter(Boolean).map(s => s.toLowerCase());
}

/** Markers of a file by line. */
export function markersOf(ctx: LintContext, pf: ParsedFile): Map<number, Set<string>> {
  let m = ctx.markerCache.get(pf.file);
  if (m) return m;
  m = new Map();
  for (const c of pf.comments) {
    const codes = markerCodes(c);
    if (!codes) continue;
    const s = m.get(c.line) ?? new Set<string>();
    for (const x of codes) s.add(x);
    m.set(c.line, s);
  }
  ctx.markerCache.set(pf.file, m);
  return m;
}

/**
 * Codes ignored for a whole block: markers on comments inside the block (in its own file) or on the
 * comment lines directly above it.
 */
export function blockIgnores(ctx: LintContext, d: Directive): Set<string> {
  const out = new Set<string>();
  const pf = ctx.cache.get(d.file);
  if (!pf) return out;
  const markers = markersOf(ctx, pf);
  if (markers.size === 0) return out;
  for (const [line, codes] of markers) {
    if (line >= d.line && line <= d.endLine) for (const c of codes) out.add(c);
  }
  const lines = linesOf(ctx, d.file);
  for (let l = d.line - 1; l >= 1; l--) {
    const t = (lines[l - 1] ?? '').trim();
    if (!t.startsWith('#')) break;
    const codes = markers.get(l);
    if (codes) for (const c of codes) out.add(c);
  }
  return out;
}

/** Codes ignored by a marker on the finding's line or on the comment line directly above it. */
export function lineIgnores(ctx: LintContext, f: Finding): Set<string> | undefined {
  const pf = ctx.cache.get(f.file);
  if (!pf) return undefined;
  const markers = markersOf(ctx, pf);
  if (markers.size === 0) return undefined;
  const own = markers.get(f.line);
  const above = markers.get(f.line - 1);
  if (!own && !above) return undefined;
  const lines = linesOf(ctx, f.file);
  const out = new Set<string>(own ?? []);
  if (above && (lines[f.line - 2] ?? '').trim().startsWith('#')) for (const c of above) out.add(c);
  return out;
}

export function isIgnored(code: string, ignored: Set<string>): boolean {
  if (ignored.size === 0) return false;
  if (ignored.has(code)) return true;
  if (ignored.has('all')) return code !== 'parse-error' && code !== 'unreadable';
  if (ignored.has('leg2') && (LEG2_CODES as readonly string[]).includes(code)) return true;
  return false;
}

/** server_name-style wildcard match (`*.example.com`, `www.example.*`, `*`). */
export function serverNameMatches(name: string, pattern: string): boolean {
  const n = name.toLowerCase();
  const p = pattern.toLowerCase();
  if (p === '*' || p === n) return true;
  if (!p.includes('*')) return false;
  const re = new RegExp('^' + p.split('*').map(s => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(n);
}

export function isLeg2(code: string): boolean {
  return (LEG2_CODES as readonly string[]).includes(code);
}

