// Caddyfile reader with positions: lines of tokens, and the `{ ... }` block a line opens. It serves the
// rules (caddy/analyze.ts) and the quick-fixes (caddy/fixes.ts) alike. Linear in the input; never throws.
//
// Tokens are separated by whitespace; "double" quotes (with \" escapes) and `backticks` group; `#` at the
// start of a token begins a comment. A `{` that ends a line opens a block, a `}` token closes it. Tokens
// such as `{$ENV}`, `{env.X}` or `{http.request.host}` are placeholders and stay as written.
import { Arg, CaddyDirective, Comment, Finding, ParsedFile, Range } from '../types';

type Token = Arg;

interface Line {
  tokens: Token[];
  indent: string;
}

export interface CaddyParseOptions {
  deadline?: number;
}

/** Parses one Caddyfile (imports are not followed here). */
export function parseCaddy(text: string, file: string, _options: CaddyParseOptions = {}): ParsedFile {
  const comments: Comment[] = [];
  const findings: Finding[] = [];
  const lines = tokenize(text, file, comments, findings);
  let i = 0;
  const readBlock = (depth: number, open?: Token): { items: CaddyDirective[]; close?: Token } => {
    const items: CaddyDirective[] = [];
    while (i < lines.length) {
      const ln = lines[i++];
      let toks = ln.tokens;
      if (toks.length === 1 && toks[0].raw === '}') {
        if (depth > 0) return { items, close: toks[0] };
        findings.push(parseError(file, toks[0], 'Unexpected "}": no block is open here.'));
        continue;
      }
      // Addresses of a site may continue on the next line after a trailing comma.
      if (depth === 0 && toks[toks.length - 1].raw.endsWith(',')) {
        toks = toks.slice();
        while (toks[toks.length - 1].raw.endsWith(',') && i < lines.length && lines[i].tokens[0]?.raw !== '{') toks.push(...lines[i++].tokens);
      }
      const last = toks[toks.length - 1];
      const opens = last.raw === '{' && !last.quote;
      const head = opens ? toks.slice(0, -1) : toks;
      const first = head[0];
      const d: CaddyDirective = {
        dialect: 'caddy', file,
        name: first ? first.value : '',
        nameRange: rangeOf(first ?? last),
        args: head.slice(1).map(stripToken),
        indent: ln.indent,
        line: (first ?? last).line, column: (first ?? last).column,
        endLine: last.endLine, endColumn: last.endColumn,
      };
      if (first) d.name = first.value.replace(/,$/, '');
      if (opens) {
        d.openBrace = rangeOf(last);
        const inner = readBlock(depth + 1, last);
        d.block = inner.items;
        if (inner.close) {
          d.closeBrace = rangeOf(inner.close);
          d.endLine = inner.close.endLine;
          d.endColumn = inner.close.endColumn;
        } else {
          const end = d.block.length ? d.block[d.block.length - 1] : d.openBrace;
          d.endLine = end.endLine;
          d.endColumn = end.endColumn;
        }
      }
      items.push(d);
    }
    if (depth > 0 && open) findings.push(parseError(file, open, 'This block is never closed: "}" is missing.'));
    return { items };
  };
  const { items } = readBlock(0);
  return { file, dialect: 'caddy', directives: items, comments, findings, lineCount: countLines(text) };
}

function stripToken(t: Token): Arg {
  const a: Arg = { value: t.value.replace(/,$/, ''), raw: t.raw, line: t.line, column: t.column, endLine: t.endLine, endColumn: t.endColumn };
  if (t.quote) a.quote = t.quote;
  return a;
}

function rangeOf(r: Range): Range {
  return { line: r.line, column: r.column, endLine: r.endLine, endColumn: r.endColumn };
}

function parseError(file: string, r: Range, message: string): Finding {
  return { file, line: r.line, column: r.column, endLine: r.endLine, endColumn: r.endColumn, severity: 'error', code: 'parse-error', message };
}

function countLines(text: string): number {
  let n = 1;
  for (let p = text.indexOf('\n'); p >= 0; p = text.indexOf('\n', p + 1)) n++;
  return n;
}

function tokenize(text: string, file: string, comments: Comment[], findings: Finding[]): Line[] {
  const out: Line[] = [];
  let line = 1;
  let lineStart = 0;
  let cur: Line | undefined;
  let i = 0;
  const n = text.length;
  const col = (p: number) => p - lineStart + 1;
  while (i < n) {
    const c = text[i];
    if (c === '\n') { line++; lineStart = i + 1; cur = undefined; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#') {
      let e = text.indexOf('\n', i);
      if (e < 0) e = n;
      const t = text.slice(i + 1, e).replace(/\r$/, '');
      comments.push({ text: t, line, column: col(i), endLine: line, endColumn: col(i) + 1 + t.length });
      i = e;
      continue;
    }
    if (!cur) {
      // only blanks precede the first token of a line (a quoted token spanning lines starts a new one)
      cur = { tokens: [], indent: text.slice(lineStart, i).replace(/\r/g, '') };
      out.push(cur);
    }
    const startLine = line;
    const startCol = col(i);
    const startOffset = i;
    let value = '';
    let quote: '"' | undefined;
    if (c === '"' || c === '`') {
      const q = c;
      i++;
      let closed = false;
      while (i < n) {
        const ch = text[i];
        if (q === '"' && ch === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) { value += text[i + 1]; i += 2; continue; }
        if (ch === q) { closed = true; i++; break; }
        if (ch === '\n') { line++; lineStart = i + 1; }
        value += ch;
        i++;
      }
      if (!closed) findings.push({ file, line: startLine, column: startCol, endLine: startLine, endColumn: startCol + 1, severity: 'error', code: 'parse-error', message: `Unclosed ${q} quote.` });
      if (q === '"') quote = '"';
    } else {
      while (i < n) {
        const ch = text.charCodeAt(i);
        if (ch === 32 || ch === 9 || ch === 10 || ch === 13) break;
        i++;
      }
      value = text.slice(startOffset, i);
    }
    const tok: Token = { value, raw: text.slice(startOffset, i), line: startLine, column: startCol, endLine: line, endColumn: col(i) };
    if (quote) tok.quote = quote;
    cur.tokens.push(tok);
  }
  return out;
}
