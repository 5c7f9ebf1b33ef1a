// A small, tolerant reader of nginx and Apache config structure for the quick-fixes: directives with the
// exact positions of their names and arguments, blocks/sections with their braces/tags, and indentation.
// The linter's own parser (src/core/lint/parse) resolves includes and inheritance; the fixes only need the
// text of one file, and must work for findings that carry no `data` (e.g. read back from `mtls lint --format
// json`), so they read the structure themselves. Never throws.
//
// Positions are 1-based lines and columns (UTF-16 code units, a tab is one column), ends exclusive: the
// convention of Finding.

export interface Pos {
  line: number;
  column: number;
}

export interface SArg {
  value: string;
  raw: string;
  start: Pos;
  end: Pos;
}

export interface SNode {
  /** Directive or section name as written (`server`, `ssl_verify_client`, `VirtualHost`, `SSLVerifyClient`). */
  name: string;
  args: SArg[];
  /** Start of the name (for an Apache section: the `<`). */
  start: Pos;
  /** End of the directive: after `;` / the last argument (Apache) / `}` / `</Section>`. */
  end: Pos;
  /** Whitespace before the directive when it starts its line, else undefined. */
  indent?: string;
  /** Children, for blocks / sections. */
  children?: SNode[];
  /** After `{` / after the `>` of the opening tag. */
  bodyStart?: Pos;
  /** At `}` / at the `<` of the closing tag (absent when unterminated). */
  bodyEnd?: Pos;
  parent?: SNode;
}

export interface Structure {
  dialect: 'nginx' | 'apache';
  nodes: SNode[];
  lines: string[];
  eol: string;
  /** One level of indentation as the file writes it ('\t' or some spaces). */
  indentUnit: string;
}

export function splitLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/);
}

/** The file's indentation unit: a tab if indented lines mostly start with tabs, else the most common step of spaces. */
export function detectIndentUnit(lines: string[]): string {
  let tabs = 0, spaces = 0;
  const steps = new Map<number, number>();
  let prev = 0;
  for (const l of lines) {
    if (!l.trim()) continue;
    const m = /^[ \t]*/.exec(l)![0];
    if (m.startsWith('\t')) tabs++;
    else if (m.length) spaces++;
    const width = m.startsWith('\t') ? 0 : m.length;
    if (!m.startsWith('\t') && width > prev) steps.set(width - prev, (steps.get(width - prev) ?? 0) + 1);
    if (!m.startsWith('\t')) prev = width;
  }
  if (tabs > spaces) return '\t';
  let best = 4, count = 0;
  for (const [step, n] of steps) if (step >= 2 && step <= 8 && (n > count || (n === count && step < best))) { best = step; count = n; }
  return ' '.repeat(best);
}

export function readStructure(text: string, dialect: 'nginx' | 'apache'): Structure {
  const lines = splitLines(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let nodes: SNode[] = [];
  try {
    nodes = dialect === 'nginx' ? readNginx(text) : readApache(text);
  } catch {
    nodes = [];
  }
  return { dialect, nodes, lines, eol, indentUnit: detectIndentUnit(lines) };
}

// ------------------------------------------------------------------------------------------- nginx

function readNginx(text: string): SNode[] {
  const root: SNode = { name: '', args: [], start: { line: 1, column: 1 }, end: { line: 1, column: 1 }, children: [] };
  let cur = root;
  let line = 1, col = 1, i = 0;
  let words: SArg[] = [];
  let lineHasCode = false; // something other than whitespace precedes on this line
  let firstIndent: string | undefined;
  let lineStart = 0;
  const n = text.length;
  const advance = () => {
    const ch = text[i++];
    if (ch === '\n' || (ch === '\r' && text[i] !== '\n')) { line++; col = 1; lineStart = i; lineHasCode = false; }
    else col++;
  };
  const pos = (): Pos => ({ line, column: col });
  const indentHere = (): string | undefined => (lineHasCode ? undefined : text.slice(lineStart, i));
  while (i < n) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') { advance(); continue; }
    if (ch === '#') { while (i < n && text[i] !== '\n' && text[i] !== '\r') advance(); continue; }
    if (ch === ';' || ch === '{') {
      advance();
      if (!words.length) { lineHasCode = true; continue; }
      const node: SNode = { name: words[0].value, args: words.slice(1), start: words[0].start, end: pos(), indent: firstIndent, parent: cur === root ? undefined : cur };
      if (ch === '{') { node.children = []; node.bodyStart = pos(); }
      cur.children!.push(node);
      if (ch === '{') cur = node;
      words = [];
      lineHasCode = true;
      continue;
    }
    if (ch === '}') {
      if (cur !== root) {
        cur.bodyEnd = pos();
        advance();
        cur.end = pos();
        cur = cur.parent ?? root;
      } else advance();
      words = [];
      lineHasCode = true;
      continue;
    }
    // a word, maybe quoted
    if (!words.length) firstIndent = indentHere();
    const start = pos();
    const from = i;
    let value = '';
    if (ch === '"' || ch === "'") {
      advance();
      while (i < n && text[i] !== ch) {
        if (text[i] === '\\' && i + 1 < n) { advance(); }
        value += text[i];
        advance();
      }
      if (i < n) advance();
    } else {
      while (i < n) {
        const c = text[i];
        if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ';' || c === '}') break;
        if (c === '{') {
          if (text[i - 1] === '$') { // ${var}
            while (i < n && text[i] !== '}') { value += text[i]; advance(); }
            if (i < n) { value += text[i]; advance(); }
            continue;
          }
          break;
        }
        if (c === '\\' && i + 1 < n) { advance(); }
        value += text[i];
        advance();
      }
    }
    words.push({ value, raw: text.slice(from, i), start, end: pos() });
    lineHasCode = true;
  }
  return root.children!;
}

// ------------------------------------------------------------------------------------------- Apache

interface LChar { ch: string; line: number; column: number }

function readApache(text: string): SNode[] {
  // Logical lines: a backslash at the end of a line joins the next one.
  const physical = splitLines(text);
  const logical: { chars: LChar[]; indent: string }[] = [];
  let acc: LChar[] | undefined;
  let accIndent = '';
  physical.forEach((l, idx) => {
    const chars: LChar[] = [...l].map((ch, k) => ({ ch, line: idx + 1, column: k + 1 }));
    // [...l] splits surrogate pairs into one element; recount columns in UTF-16 units
    let c = 1;
    for (const x of chars) { x.column = c; c += x.ch.length; }
    if (!acc) { acc = []; accIndent = /^[ \t]*/.exec(l)![0]; }
    if (l.endsWith('\\') && !/^\s*#/.test(l)) { acc.push(...chars.slice(0, -1)); return; }
    acc.push(...chars);
    logical.push({ chars: acc, indent: accIndent });
    acc = undefined;
  });
  if (acc) logical.push({ chars: acc, indent: accIndent });

  const root: SNode = { name: '', args: [], start: { line: 1, column: 1 }, end: { line: 1, column: 1 }, children: [] };
  let cur = root;
  for (const { chars, indent } of logical) {
    const toks = tokenizeApache(chars);
    if (!toks.length || toks[0].value.startsWith('#')) continue;
    const first = toks[0];
    if (first.raw.startsWith('</')) {
      const name = first.raw.slice(2).replace(/>.*$/, '');
      // close the innermost open section with that name (tolerant of mismatches)
      let s: SNode | undefined = cur;
      while (s && s !== root && s.name.toLowerCase() !== name.toLowerCase()) s = s.parent;
      if (s && s !== root) {
        s.bodyEnd = first.start;
        const last = toks[toks.length - 1];
        s.end = last.end;
        cur = s.parent ?? root;
      }
      continue;
    }
    const parent = cur === root ? undefined : cur;
    if (first.raw.startsWith('<')) {
      // <Name args...>
      const name = first.raw.slice(1).replace(/>$/, '');
      const args = toks.slice(1).map(t => ({ ...t }));
      const last = args[args.length - 1];
      if (last && last.raw.endsWith('>')) {
        last.raw = last.raw.slice(0, -1);
        last.value = last.value.replace(/>$/, '');
        last.end = { line: last.end.line, column: last.end.column - 1 };
        if (!last.raw) args.pop();
      }
      const lastTok = toks[toks.length - 1];
      const node: SNode = { name, args, start: first.start, end: lastTok.end, indent: indent, parent, children: [], bodyStart: lastTok.end };
      cur.children!.push(node);
      cur = node;
      continue;
    }
    const last = toks[toks.length - 1];
    cur.children!.push({ name: first.value, args: toks.slice(1), start: first.start, end: last.end, indent, parent });
  }
  return root.children!;
}

function tokenizeApache(chars: LChar[]): SArg[] {
  const out: SArg[] = [];
  let k = 0;
  const n = chars.length;
  while (k < n) {
    const c = chars[k].ch;
    if (c === ' ' || c === '\t') { k++; continue; }
    if (c === '#' && out.length === 0) { // a comment line
      out.push({ value: '#', raw: '#', start: at(chars[k]), end: at(chars[k]) });
      return out;
    }
    const start = at(chars[k]);
    let raw = '', value = '';
    if (c === '"' || c === "'") {
      raw += c; k++;
      while (k < n && chars[k].ch !== c) {
        if (chars[k].ch === '\\' && k + 1 < n && (chars[k + 1].ch === c || chars[k + 1].ch === '\\')) { raw += chars[k].ch; k++; }
        raw += chars[k].ch; value += chars[k].ch; k++;
      }
      if (k < n) { raw += chars[k].ch; k++; }
      // a closing `>` glued to the quote belongs to the section tag
      if (k < n && chars[k].ch === '>') { raw += '>'; value += '>'; k++; }
    } else {
      while (k < n && chars[k].ch !== ' ' && chars[k].ch !== '\t') { raw += chars[k].ch; value += chars[k].ch; k++; }
    }
    const lastCh = chars[k - 1];
    out.push({ value, raw, start, end: { line: lastCh.line, column: lastCh.column + lastCh.ch.length } });
  }
  return out;
}

function at(c: LChar): Pos {
  return { line: c.line, column: c.column };
}

// ------------------------------------------------------------------------------------------- queries

export function comparePos(a: Pos, b: Pos): number {
  return a.line - b.line || a.column - b.column;
}

export function contains(node: SNode, p: Pos): boolean {
  return comparePos(node.start, p) <= 0 && comparePos(p, node.end) < 0;
}

export function walk(nodes: SNode[], visit: (n: SNode) => void): void {
  const stack: { ns: SNode[]; i: number }[] = [{ ns: nodes, i: 0 }];
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top.i >= top.ns.length) { stack.pop(); continue; }
    const n = top.ns[top.i++];
    visit(n);
    if (n.children) stack.push({ ns: n.children, i: 0 });
  }
}

/** The innermost node whose range contains p and that satisfies pred. */
export function innermost(nodes: SNode[], p: Pos, pred: (n: SNode) => boolean): SNode | undefined {
  let found: SNode | undefined;
  walk(nodes, n => { if (pred(n) && contains(n, p)) found = n; });
  return found;
}

export function sameName(a: string, b: string, dialect: 'nginx' | 'apache'): boolean {
  return dialect === 'apache' ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/** Children of a block named `name`, in order. */
export function childrenNamed(block: SNode | undefined, name: string, dialect: 'nginx' | 'apache'): SNode[] {
  return (block?.children ?? []).filter(c => sameName(c.name, name, dialect));
}
