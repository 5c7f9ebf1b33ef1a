// nginx configuration parser with exact positions. Follows the tokenizer of nginx itself
// (src/core/ngx_conf_file.c, ngx_conf_read_token): words end at whitespace, `;` or `{`; quotes and `#`
// comments only count at the start of a word; `\` escapes the next character; `${` keeps `{` inside a
// word; `*_by_lua_block { ... }` bodies are Lua and are skipped as raw text. Never throws.
import { Arg, Comment, Finding, NginxDirective, ParsedFile, Range } from '../types';
import { KNOWN_NGINX_DIRECTIVES, NGINX_FREEFORM_BLOCKS } from './directives';

/** Punctuation and end of file; words come back as Arg objects. */
const T_SEMI = 1, T_OPEN = 2, T_CLOSE = 3, T_EOF = 4;
type Tok = Arg | typeof T_SEMI | typeof T_OPEN | typeof T_CLOSE | typeof T_EOF;

const CH_NL = 10, CH_CR = 13, CH_SP = 32, CH_TAB = 9, CH_SEMI = 59, CH_LB = 123, CH_RB = 125;
const CH_HASH = 35, CH_BS = 92, CH_DQ = 34, CH_SQ = 39, CH_DOLLAR = 36, CH_RP = 41;

function isSpace(c: number): boolean {
  return c === CH_SP || c === CH_TAB || c === CH_NL || c === CH_CR || c === 12 || c === 11;
}

/** Converts nginx escapes the way ngx_conf_read_token does: \" \' \\ \t \r \n; others stay as written. */
function unescape(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      const n = s[i + 1];
      if (n === '"' || n === "'" || n === '\\') { out += n; i++; continue; }
      if (n === 't') { out += '\t'; i++; continue; }
      if (n === 'r') { out += '\r'; i++; continue; }
      if (n === 'n') { out += '\n'; i++; continue; }
    }
    out += c;
  }
  return out;
}

export interface NginxParseOptions {
  /** Date.now() after which parsing stops with a parse-error (bounded time on pathological input). */
  deadline?: number;
}

class Lexer {
  pos = 0;
  line = 1;
  lineStart = 0;
  readonly len: number;
  constructor(readonly text: string, readonly file: string, readonly comments: Comment[], readonly findings: Finding[]) {
    this.len = text.length;
  }

  col(pos: number): number {
    return pos - this.lineStart + 1;
  }

  error(r: Range, message: string): void {
    this.findings.push({ file: this.file, line: r.line, column: r.column, endLine: r.endLine, endColumn: r.endColumn, severity: 'error', code: 'parse-error', message });
  }

  /** Advances over one character, tracking lines. */
  private adv(): void {
    if (this.text.charCodeAt(this.pos) === CH_NL) {
      this.line++;
      this.lineStart = this.pos + 1;
    }
    this.pos++;
  }

  private skipSpaceAndComments(): void {
    const t = this.text;
    for (;;) {
      while (this.pos < this.len && isSpace(t.charCodeAt(this.pos))) this.adv();
      if (this.pos < this.len && t.charCodeAt(this.pos) === CH_HASH) {
        const start = this.pos;
        let e = t.indexOf('\n', start);
        if (e < 0) e = this.len;
        let textEnd = e;
        if (textEnd > start && t.charCodeAt(textEnd - 1) === CH_CR) textEnd--;
        this.comments.push({ line: this.line, column: this.col(start), endLine: this.line, endColumn: this.col(textEnd), text: t.slice(start + 1, textEnd) });
        this.pos = e; // the newline itself is handled by the loop
        continue;
      }
      return;
    }
  }

  /** Position of the last punctuation token (or of the end of file). */
  pLine = 1;
  pCol = 1;
  /** Offset of the last word's first character. */
  wordStart = 0;

  punct(): Range {
    return { line: this.pLine, column: this.pCol, endLine: this.pLine, endColumn: this.pCol + 1 };
  }

  next(): Tok {
    this.skipSpaceAndComments();
    const t = this.text;
    const start = this.pos;
    const line = this.line;
    const column = this.col(start);
    if (this.pos >= this.len) { this.pLine = line; this.pCol = column; return T_EOF; }
    const c = t.charCodeAt(this.pos);
    if (c === CH_SEMI || c === CH_LB || c === CH_RB) {
      this.pos++;
      this.pLine = line;
      this.pCol = column;
      return c === CH_SEMI ? T_SEMI : c === CH_LB ? T_OPEN : T_CLOSE;
    }
    this.wordStart = start;
    if (c === CH_DQ || c === CH_SQ) {
      this.pos++;
      let closed = false;
      while (this.pos < this.len) {
        const ch = t.charCodeAt(this.pos);
        if (ch === CH_BS) { this.pos++; if (this.pos < this.len) this.adv(); continue; }
        if (ch === c) { this.pos++; closed = true; break; }
        this.adv();
      }
      const end = this.pos;
      const raw = t.slice(start, end);
      const tok: Arg = { value: unescape(raw.slice(1, closed ? -1 : undefined)), raw, line, column, endLine: this.line, endColumn: this.col(end), quote: c === CH_DQ ? '"' : "'" };
      if (!closed) {
        this.error({ line, column, endLine: line, endColumn: column + 1 }, `unexpected end of file: the ${c === CH_DQ ? 'double' : 'single'} quote opened here is never closed`);
      } else if (this.pos < this.len) {
        const n = t.charCodeAt(this.pos);
        if (!isSpace(n) && n !== CH_SEMI && n !== CH_LB && n !== CH_RP) {
          this.error({ line: this.line, column: this.col(this.pos), endLine: this.line, endColumn: this.col(this.pos) + 1 }, `unexpected "${t[this.pos]}" right after a quoted string (nginx needs a space, ";" or "{" here)`);
        }
      }
      return tok;
    }
    // Unquoted word.
    let variable = false;
    while (this.pos < this.len) {
      const ch = t.charCodeAt(this.pos);
      if (ch === CH_BS) {
        this.pos++;
        if (this.pos < this.len) this.adv();
        variable = false;
        continue;
      }
      if (ch === CH_LB && variable) { this.pos++; variable = false; continue; }
      if (ch === CH_SP || ch === CH_NL || ch === CH_SEMI || ch === CH_LB || ch === CH_TAB || isSpace(ch)) break;
      variable = ch === CH_DOLLAR;
      this.pos++;
    }
    const raw = t.slice(start, this.pos);
    return { value: unescape(raw), raw, line, column, endLine: this.line, endColumn: this.col(this.pos) };
  }

  /**
   * Skips a Lua block body; pos is just after its `{`. Returns the body's range and the closing brace
   * (undefined if the file ends first). Knows Lua strings, long brackets and comments, so braces inside
   * them do not count.
   */
  skipLua(): { body: Range; close?: Range } {
    const t = this.text;
    const bodyStart = { line: this.line, column: this.col(this.pos) };
    let depth = 1;
    const longBracket = (): number => {
      // at '[': returns level if this opens a long bracket [=*[ , else -1
      let p = this.pos + 1;
      let level = 0;
      while (p < this.len && t.charCodeAt(p) === 61 /* = */) { level++; p++; }
      return p < this.len && t.charCodeAt(p) === 91 /* [ */ ? level : -1;
    };
    const skipLong = (level: number): void => {
      const closer = ']' + '='.repeat(level) + ']';
      const e = t.indexOf(closer, this.pos + level + 2);
      const stop = e < 0 ? this.len : e + closer.length;
      while (this.pos < stop) this.adv();
    };
    while (this.pos < this.len) {
      const ch = t.charCodeAt(this.pos);
      if (ch === CH_DQ || ch === CH_SQ) {
        this.pos++;
        while (this.pos < this.len) {
          const x = t.charCodeAt(this.pos);
          if (x === CH_BS) { this.pos++; if (this.pos < this.len) this.adv(); continue; }
          if (x === ch || x === CH_NL) { this.adv(); break; }
          this.pos++;
        }
        continue;
      }
      if (ch === 45 /* - */ && t.charCodeAt(this.pos + 1) === 45) {
        this.pos += 2;
        if (t.charCodeAt(this.pos) === 91) {
          const level = longBracket();
          if (level >= 0) { skipLong(level); continue; }
        }
        const e = t.indexOf('\n', this.pos);
        this.pos = e < 0 ? this.len : e;
        continue;
      }
      if (ch === 91 /* [ */) {
        const level = longBracket();
        if (level >= 0) { skipLong(level); continue; }
      }
      if (ch === CH_LB) depth++;
      else if (ch === CH_RB) {
        depth--;
        if (depth === 0) {
          const body: Range = { line: bodyStart.line, column: bodyStart.column, endLine: this.line, endColumn: this.col(this.pos) };
          const close: Range = { line: this.line, column: this.col(this.pos), endLine: this.line, endColumn: this.col(this.pos) + 1 };
          this.pos++;
          return { body, close };
        }
      }
      this.adv();
    }
    return { body: { line: bodyStart.line, column: bodyStart.column, endLine: this.line, endColumn: this.col(this.pos) } };
  }
}

function indentBefore(text: string, start: number): string {
  let p = start;
  while (p > 0) {
    const c = text.charCodeAt(p - 1);
    if (c === CH_NL) break;
    if (c !== CH_SP && c !== CH_TAB) return '';
    p--;
  }
  return text.slice(p, start);
}

/** Deepest block nesting kept as a tree (nginx.conf files in the wild nest a handful of levels). */
export const MAX_NESTING = 100;
/** Most parse-error findings reported per file; past it one finding says how many more there are. */
export const MAX_PARSE_FINDINGS = 100;

/** Sorts parse findings by position and keeps the first MAX_PARSE_FINDINGS, plus one that counts the rest. */
export function capFindings(findings: Finding[]): Finding[] {
  findings.sort((a, b) => a.line - b.line || a.column - b.column);
  if (findings.length <= MAX_PARSE_FINDINGS) return findings;
  const kept = findings.slice(0, MAX_PARSE_FINDINGS);
  const next = findings[MAX_PARSE_FINDINGS];
  kept.push({ ...next, severity: 'error', message: `${findings.length - MAX_PARSE_FINDINGS} more syntax errors from here on are not listed (the first: ${next.message}).` });
  return kept;
}

interface Frame {
  owner?: NginxDirective;
  children: NginxDirective[];
}

/** Parses one nginx file (includes are not followed here). */
export function parseNginx(text: string, file: string, options: NginxParseOptions = {}): ParsedFile {
  const comments: Comment[] = [];
  const findings: Finding[] = [];
  const lx = new Lexer(text, file, comments, findings);
  const root: Frame = { children: [] };
  const stack: Frame[] = [root];
  let stmt: Arg[] = [];
  let stmtStart = 0;
  let count = 0;
  let tooDeep = false;
  const deadline = options.deadline;

  const makeDirective = (toks: Arg[], last: Range): NginxDirective => {
    const n = toks[0];
    return {
      dialect: 'nginx',
      name: n.value,
      nameRange: n, // the name token itself (an Arg: a Range plus its text)
      args: toks.slice(1),
      file,
      indent: indentBefore(text, stmtStart),
      line: n.line,
      column: n.column,
      endLine: last.endLine,
      endColumn: last.endColumn,
    };
  };

  const flush = (terminator?: Range): void => {
    if (stmt.length === 0) return;
    const d = makeDirective(stmt, terminator ?? stmt[stmt.length - 1]);
    if (terminator) d.semicolon = terminator;
    stack[stack.length - 1].children.push(d);
    stmt = [];
  };
  const words = () => stmt.map(s => s.value).join(' ').slice(0, 80);

  for (;;) {
    if (deadline !== undefined && (++count & 0xfff) === 0 && Date.now() > deadline) {
      findings.push({ file, line: lx.line, column: 1, endLine: lx.line, endColumn: 1 + Math.min(1, text.length - lx.lineStart), severity: 'error', code: 'parse-error', message: 'The file is too large or complex to check within the time limit; the rest of it was not checked.' });
      break;
    }
    const tok = lx.next();
    if (tok === T_EOF) break;
    const frame = stack[stack.length - 1];
    if (typeof tok === 'object') {
      // A known directive name at the start of a new line while a statement is still open is almost
      // always a missing semicolon: report it and start a new statement.
      if (stmt.length > 0 && !tok.quote && tok.line > stmt[stmt.length - 1].endLine && KNOWN_NGINX_DIRECTIVES.has(tok.value)
        && !(frame.owner && NGINX_FREEFORM_BLOCKS.has(frame.owner.name)) && !(stmt.length === 1 && stmt[0].value === 'if')) {
        const prev = stmt[stmt.length - 1];
        // A warning, not an error: nginx itself reads both lines as one directive and may accept it
        // (`server_name a.example` + `root /srv;` becomes server_name with three names).
        findings.push({ file, line: prev.line, column: prev.column, endLine: prev.endLine, endColumn: prev.endColumn, severity: 'warning', code: 'parse-error',
          message: `missing ";" after "${words()}"? The next line starts the directive "${tok.value}", but without a ";" nginx reads both lines as one ${stmt[0].value} directive.` });
        flush();
      }
      if (stmt.length === 0) stmtStart = lx.wordStart;
      stmt.push(tok);
      continue;
    }
    const p = lx.punct();
    if (tok === T_SEMI) {
      if (stmt.length === 0) {
        lx.error(p, 'unexpected ";" (no directive before it)');
        continue;
      }
      flush(p);
      continue;
    }
    if (tok === T_OPEN) {
      if (stmt.length === 0) {
        lx.error(p, 'unexpected "{" (no directive before it)');
        // Parse the block anyway, as an anonymous one, so its content is still checked.
        stmt = [{ value: '', raw: '', ...p }];
        stmtStart = lx.pos - 1;
      }
      const d = makeDirective(stmt, p);
      d.openBrace = p;
      stmt = [];
      frame.children.push(d);
      if (d.name.endsWith('_by_lua_block')) {
        const { body, close } = lx.skipLua();
        d.rawBlock = body;
        if (close) {
          d.closeBrace = close;
          d.endLine = close.endLine;
          d.endColumn = close.endColumn;
        } else {
          lx.error(d.nameRange, `unexpected end of file: the Lua block "${d.name}" is never closed with "}"`);
          d.endLine = body.endLine;
          d.endColumn = body.endColumn;
        }
        continue;
      }
      const block: NginxDirective[] = [];
      d.block = block;
      if (stack.length > MAX_NESTING) {
        // Deeper than any real config: keep reading (braces still pair up), but put what follows in the
        // block at the limit, so the tree every check walks stays shallow.
        if (!tooDeep) { tooDeep = true; lx.error(d.nameRange, `blocks nested more than ${MAX_NESTING} deep; the deeper levels are read as part of the block at that depth`); }
        stack.push({ owner: d, children: frame.children });
      } else {
        stack.push({ owner: d, children: block });
      }
      continue;
    }
    // T_CLOSE
    if (stmt.length > 0) {
      const prev = stmt[stmt.length - 1];
      lx.error(prev, `missing ";" after "${words()}" (before "}")`);
      flush();
    }
    if (stack.length === 1) {
      lx.error(p, 'unexpected "}" (no block is open here)');
      continue;
    }
    const closed = stack.pop()!;
    const owner = closed.owner!;
    owner.closeBrace = p;
    owner.endLine = p.endLine;
    owner.endColumn = p.endColumn;
  }
  if (stmt.length > 0) {
    const prev = stmt[stmt.length - 1];
    lx.error(prev, `unexpected end of file: missing ";" after "${words()}"`);
    flush();
  }
  // Unclosed blocks: report each at its name and extend it to the end of the file.
  const eofLine = lx.line;
  const eofCol = lx.col(text.length);
  while (stack.length > 1) {
    const f = stack.pop()!;
    const owner = f.owner!;
    lx.error(owner.nameRange, `unexpected end of file: the block "${owner.name}" opened here is never closed with "}"`);
    owner.endLine = eofLine;
    owner.endColumn = eofCol;
  }
  return { file, dialect: 'nginx', directives: root.children, comments, findings: capFindings(findings), lineCount: lx.line };
}
