// haproxy.cfg and crt-list reader with positions. It serves the rules (haproxy/analyze.ts) and the
// quick-fixes (haproxy/fixes.ts) alike. Linear in the input; never throws.
//
// haproxy.cfg: one statement per line; words split on blanks; "double quotes" (with \ escapes) and
// 'single quotes' group; `\` escapes the next character; an unquoted `#` starts a comment. A line whose
// first word is a section keyword (`global`, `defaults`, `frontend`, `listen`, `backend`, ...) opens a
// section that runs to the next one. `${VAR}` references are kept as written.
// crt-list: `<certificate> [<ssl options>] [<sni filters>]` per line.
import { Arg, Comment, Finding, HaproxyDirective, ParsedFile, Range } from '../types';

export const SECTION_KEYWORDS = new Set(['global', 'defaults', 'frontend', 'backend', 'listen', 'userlist', 'peers', 'resolvers', 'mailers', 'program', 'http-errors', 'ring', 'cache', 'fcgi-app']);

type Word = Arg;

/** Splits one line into words, collecting its comment. */
function words(line: string, lineNo: number, comments: Comment[]): { words: Word[]; indent: string } {
  const out: Word[] = [];
  const indent = /^[ \t]*/.exec(line)![0];
  let i = indent.length;
  const n = line.length;
  while (i < n) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#') {
      const t = line.slice(i + 1).replace(/\r$/, '');
      comments.push({ text: t, line: lineNo, column: i + 1, endLine: lineNo, endColumn: i + 2 + t.length });
      break;
    }
    const start = i;
    let value = '';
    let quote: '"' | "'" | undefined;
    while (i < n) {
      const ch = line[i];
      if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '#') break;
      if (ch === '\\' && i + 1 < n) { value += line[i + 1]; i += 2; continue; }
      if (ch === '"' || ch === "'") {
        quote = ch;
        i++;
        while (i < n && line[i] !== ch) {
          if (ch === '"' && line[i] === '\\' && i + 1 < n) { value += line[i + 1]; i += 2; continue; }
          value += line[i++];
        }
        i++;
        continue;
      }
      value += ch;
      i++;
    }
    const w: Word = { value, raw: line.slice(start, Math.min(i, n)), line: lineNo, column: start + 1, endLine: lineNo, endColumn: Math.min(i, n) + 1 };
    if (quote) w.quote = quote;
    out.push(w);
  }
  return { words: out, indent };
}

function toArg(w: Word): Arg {
  const a: Arg = { value: w.value, raw: w.raw, line: w.line, column: w.column, endLine: w.endLine, endColumn: w.endColumn };
  if (w.quote) a.quote = w.quote;
  return a;
}

function range(r: Range): Range {
  return { line: r.line, column: r.column, endLine: r.endLine, endColumn: r.endColumn };
}

export function splitLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/);
}

/** Parses one haproxy.cfg (crt-list files are read by the rules, through parseCrtList). */
export function parseHaproxy(text: string, file: string, _options: { deadline?: number } = {}): ParsedFile {
  const comments: Comment[] = [];
  const findings: Finding[] = [];
  const lines = splitLines(text);
  const top: HaproxyDirective[] = [];
  let section: HaproxyDirective | undefined;
  for (let k = 0; k < lines.length; k++) {
    const { words: ws, indent } = words(lines[k], k + 1, comments);
    if (!ws.length) continue;
    const first = ws[0];
    const last = ws[ws.length - 1];
    const d: HaproxyDirective = {
      dialect: 'haproxy', file, name: first.value, nameRange: range(first), args: ws.slice(1).map(toArg), indent,
      line: first.line, column: first.column, endLine: last.endLine, endColumn: last.endColumn,
    };
    if (SECTION_KEYWORDS.has(first.value)) {
      d.section = true;
      d.block = [];
      section = d;
      top.push(d);
      continue;
    }
    if (section) {
      section.block!.push(d);
      section.endLine = d.endLine;
      section.endColumn = d.endColumn;
    } else {
      top.push(d);
    }
  }
  return { file, dialect: 'haproxy', directives: top, comments, findings, lineCount: lines.length };
}

/** Parses a crt-list file: one entry per line, `[...]` options and SNI filters apart. */
export function parseCrtList(text: string, file: string): ParsedFile {
  const comments: Comment[] = [];
  const findings: Finding[] = [];
  const lines = splitLines(text);
  const entries: HaproxyDirective[] = [];
  for (let k = 0; k < lines.length; k++) {
    const { words: ws, indent } = words(lines[k], k + 1, comments);
    if (!ws.length) continue;
    const cert = ws[0];
    const d: HaproxyDirective = {
      dialect: 'haproxy', file, name: cert.value, nameRange: range(cert), args: [], indent, crtListEntry: true, sslOptions: [], sniFilters: [],
      line: cert.line, column: cert.column, endLine: cert.endLine, endColumn: cert.endColumn,
    };
    let j = 1;
    if (ws[j] && ws[j].raw.startsWith('[')) {
      d.optionsOpen = { line: ws[j].line, column: ws[j].column, endLine: ws[j].line, endColumn: ws[j].column + 1 };
      let closed = false;
      for (; j < ws.length && !closed; j++) {
        let raw = ws[j].raw;
        let col = ws[j].column;
        if (raw.startsWith('[') && j === 1) { raw = raw.slice(1); col++; }
        if (raw.endsWith(']')) {
          closed = true;
          d.optionsClose = { line: ws[j].line, column: ws[j].endColumn - 1, endLine: ws[j].line, endColumn: ws[j].endColumn };
          raw = raw.slice(0, -1);
        }
        if (raw) d.sslOptions!.push({ value: raw.replace(/^["']|["']$/g, ''), raw, line: ws[j].line, column: col, endLine: ws[j].line, endColumn: col + raw.length });
      }
      if (!closed) findings.push({ file, ...range(d.optionsOpen), severity: 'error', code: 'parse-error', message: 'The "[" of this crt-list line is never closed with "]".' });
    }
    d.sniFilters = ws.slice(j).map(toArg);
    d.args = [...d.sslOptions!, ...d.sniFilters];
    const last = ws[ws.length - 1];
    d.endLine = last.endLine;
    d.endColumn = last.endColumn;
    entries.push(d);
  }
  return { file, dialect: 'haproxy', directives: entries, comments, findings, lineCount: lines.length };
}

/** True when the text looks like a crt-list (no section keyword, no `bind`). */
export function looksLikeCrtList(pf: ParsedFile): boolean {
  return !pf.directives.some(d => (d as HaproxyDirective).section || d.name === 'bind');
}
