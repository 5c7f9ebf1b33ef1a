// Shared machinery of the rule passes (nginx, Apache, Caddy, HAProxy): the lint context, directive references for
// quick-fixes, CA file reading, ignore markers.
import { BlockRef, Comment, Dialect, Directive, DirectiveRef, Finding, FindingData, LintFs, LintOptions, LintSettings, ParsedFile, Range, RuleCode, Severity } from './types';
import { analyzeCaFile, CaFileAnalysis } from './ca';
import { detectIndentUnit, splitLines } from './text';
import { LEG2_CODES } from './rules';
import type { Skipped } from './paths';

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
  /** Per-run memo for repeated lookups (indentation units, resolved paths, CA verdicts). */
  memo: Map<string, unknown>;
  timedOut: boolean;
}

/** Files one lint run follows at most through includes (a runaway glob must not read a whole disk). */
const MAX_FILES = 5000;

/**
 * Reads and parses a file once per run (includes may name it many times), collecting its parse findings.
 * A file that cannot be read (a FIFO, a device, too large) gives an `unreadable` finding at `from`.
 */
export function loadParsedFile(ctx: LintContext, file: string, parse: (text: string, file: string, options: { deadline: number }) => ParsedFile, from?: Directive): ParsedFile | undefined {
  const cached = ctx.cache.get(file);
  if (cached) return cached;
  if (ctx.cache.size >= MAX_FILES) return undefined;
  const text = ctx.fs.readFile(file);
  if (text === undefined) {
    const why = ctx.fs.problem?.(file);
    if (why && from) reportSkipped(ctx, from, [{ path: file, why }]);
    return undefined;
  }
  const pf = parse(text, file, { deadline: ctx.deadline });
  ctx.cache.set(file, pf);
  ctx.texts.set(file, text);
  ctx.files.push(pf);
  for (const f of pf.findings) ctx.findings.push(f);
  return pf;
}

/** `unreadable` findings at an include directive for the paths it matched that are not read. */
export function reportSkipped(ctx: LintContext, d: Directive, skipped: Skipped[]): void {
  const seen = new Set<string>();
  for (const s of skipped) {
    if (seen.has(s.path)) continue;
    seen.add(s.path);
    const key = `skipped\0${d.file}\0${d.line}\0${s.path}`;
    if (ctx.memo.has(key)) continue;
    ctx.memo.set(key, true);
    ctx.findings.push(finding(d.file, d.args[0] ?? d.nameRange, 'error', 'unreadable', `${d.name} ${d.args[0]?.value ?? ''}: ${s.path} was not read: ${s.why}. Only regular files are read as configs.`));
  }
}

/** Memoizes `fn` under `key` for this lint run. */
export function memo<T>(ctx: LintContext, key: string, fn: () => T): T {
  if (ctx.memo.has(key)) return ctx.memo.get(key) as T;
  const v = fn();
  ctx.memo.set(key, v);
  return v;
}

export function finding(file: string, r: Range, severity: Severity, code: RuleCode, message: string, data?: FindingData): Finding {
  const f: Finding = { file, line: r.line, column: r.column, endLine: r.endLine, endColumn: r.endColumn, severity, code, message };
  if (data) {
    // Copy the defined fields only (no `undefined` in JSON; no delete, which slows objects down).
    const clean: Record<string, unknown> = {};
    for (const k in data) if ((data as Record<string, unknown>)[k] !== undefined) clean[k] = (data as Record<string, unknown>)[k];
    f.data = clean as FindingData;
  }
  return f;
}

/** Line start offsets of each file, computed once per run; lines are sliced only when asked for. */
const lineIndex = new WeakMap<LintContext, Map<string, { text: string; starts: Int32Array }>>();
function indexOf(ctx: LintContext, file: string): { text: string; starts: Int32Array } {
  let m = lineIndex.get(ctx);
  if (!m) { m = new Map(); lineIndex.set(ctx, m); }
  let ix = m.get(file);
  if (!ix) {
    const text = ctx.texts.get(file) ?? '';
    let n = 1;
    for (let p = text.indexOf('\n'); p >= 0; p = text.indexOf('\n', p + 1)) n++;
    const starts = new Int32Array(n + 1);
    let i = 1;
    for (let p = text.indexOf('\n'); p >= 0; p = text.indexOf('\n', p + 1)) starts[i++] = p + 1;
    starts[n] = text.length + 1;
    ix = { text, starts };
    m.set(file, ix);
  }
  return ix;
}

/** Number of lines of a file (as the linter read it). */
export function lineCountOf(ctx: LintContext, file: string): number {
  return indexOf(ctx, file).starts.length - 1;
}

/** Text of 1-based line `n` without its line end ('' past the end). */
export function lineAt(ctx: LintContext, file: string, n: number): string {
  const { text, starts } = indexOf(ctx, file);
  if (n < 1 || n >= starts.length) return '';
  let end = starts[n] - 1;
  if (end > text.length) end = text.length;
  if (end > starts[n - 1] && text.charCodeAt(end - 1) === 13) end--;
  return text.slice(starts[n - 1], end);
}

export function eolOf(ctx: LintContext, file: string): string {
  const t = ctx.texts.get(file) ?? '';
  const n = t.indexOf('\n');
  return n > 0 && t[n - 1] === '\r' ? '\r\n' : '\n';
}

/** The file's indentation unit ('\t' or some spaces), the same way the quick-fixes detect it. */
export function indentUnitOf(ctx: LintContext, file: string): string {
  return memo(ctx, `indent\0${file}`, () => detectIndentUnit(splitLines(ctx.texts.get(file) ?? '')));
}

function restOfLineIsBlank(ctx: LintContext, file: string, line: number, column: number, dialect: Dialect): boolean {
  const rest = lineAt(ctx, file, line).slice(column - 1).trim();
  return rest === '' || (dialect !== 'apache' && rest.startsWith('#'));
}

function textBefore(ctx: LintContext, file: string, line: number, column: number): string {
  return lineAt(ctx, file, line).slice(0, column - 1);
}

const refCache = new WeakMap<Directive, DirectiveRef>();

/** The quick-fix view of a directive (shared between the findings of one run; treat as read-only). */
export function ref(ctx: LintContext, d: Directive): DirectiveRef {
  let r = refCache.get(d);
  if (!r) { r = makeRef(ctx, d); refCache.set(d, r); }
  return r;
}

function makeRef(ctx: LintContext, d: Directive): DirectiveRef {
  const r: DirectiveRef = { file: d.file, name: d.name, args: d.args.map(a => a.value), line: d.line, column: d.column, endLine: d.endLine, endColumn: d.endColumn, indent: d.indent };
  if (d.args.length) {
    const a = d.args[0];
    const z = d.args[d.args.length - 1];
    r.valueRange = { line: a.line, column: a.column, endLine: a.endLine, endColumn: a.endColumn };
    r.argsRange = { line: a.line, column: a.column, endLine: z.endLine, endColumn: z.endColumn };
  }
  if (textBefore(ctx, d.file, d.line, d.column).trim() === '' && restOfLineIsBlank(ctx, d.file, d.endLine, d.endColumn, d.dialect)) {
    r.fullLinesRange = d.endLine < lineCountOf(ctx, d.file)
      ? { line: d.line, column: 1, endLine: d.endLine + 1, endColumn: 1 }
      : { line: d.line, column: 1, endLine: d.endLine, endColumn: lineAt(ctx, d.file, d.endLine).length + 1 };
  }
  return r;
}

/** Reference to a server / VirtualHost block, with where a fix inserts directives. */
export function blockRef(ctx: LintContext, d: Directive, kind: 'server' | 'VirtualHost', serverNames: string[], addresses: string[], lastTlsDirective?: Directive): BlockRef {
  const open = d.dialect === 'apache' ? d.openTag : d.dialect === 'haproxy' ? undefined : d.openBrace;
  const close = d.dialect === 'apache' ? d.closeTag : d.dialect === 'haproxy' ? undefined : d.closeBrace;
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
  const sorted = memo(ctx, `markerlines\0${d.file}`, () => [...markers.keys()].sort((a, b) => a - b));
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] < d.line) lo = mid + 1; else hi = mid; }
  for (let i = lo; i < sorted.length && sorted[i] <= d.endLine; i++) for (const c of markers.get(sorted[i])!) out.add(c);
  for (let l = d.line - 1; l >= 1; l--) {
    const t = lineAt(ctx, d.file, l).trim();
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
  const out = new Set<string>(own ?? []);
  if (above && lineAt(ctx, f.file, f.line - 1).trim().startsWith('#')) for (const c of above) out.add(c);
  return out;
}

/** What isIgnored needs of a set of ignored codes. */
export interface IgnoreSet {
  readonly size: number;
  has(code: string): boolean;
}

/** An IgnoreSet computed on first use (most blocks never need it). */
export class LazyIgnores implements IgnoreSet {
  private s?: Set<string>;
  constructor(private readonly compute: () => Set<string>) {}
  get size(): number { return (this.s ??= this.compute()).size; }
  has(code: string): boolean { return (this.s ??= this.compute()).has(code); }
}

export function isIgnored(code: string, ignored: IgnoreSet): boolean {
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

