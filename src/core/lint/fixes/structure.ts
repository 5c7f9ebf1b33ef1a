// The quick-fixes' view of one config file: directives with the exact positions of their names and
// arguments, blocks/sections with their braces/tags, and indentation. It is built from the linter's own parse
// tree (src/core/lint/nginx/parser, src/core/lint/apache/parser: the same lexer and parser the analysis uses),
// so a fix sees the file exactly as the finding was computed. Fixes work from the text alone, so findings
// without `data` (read back from `mtls lint --format json`) can be fixed too. Never throws.
//
// Positions are 1-based lines and columns (UTF-16 code units, a tab is one column), ends exclusive: the
// convention of Finding.
import type { Arg, Dialect, Directive, ParsedFile } from '../types';
import { parseConfig } from '../parse';
import { detectIndentUnit, splitLines } from '../text';

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
  /** The parse tree's directive this node views. */
  directive: Directive;
}

export interface Structure {
  dialect: Dialect;
  nodes: SNode[];
  lines: string[];
  eol: string;
  /** One level of indentation as the file writes it ('\t' or some spaces). */
  indentUnit: string;
}

export { splitLines, detectIndentUnit } from '../text';

/**
 * The fixes' view of `text`: the linter's parse of it (or `parsed`, when the caller already has the parse
 * tree of exactly this text), with parent links and line-start indentation.
 */
export function readStructure(text: string, dialect: Dialect, parsed?: ParsedFile, file = 'config'): Structure {
  const lines = splitLines(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let nodes: SNode[];
  try {
    const pf = parsed ?? parseConfig(text, { file, dialect });
    nodes = viewOf(pf.directives, pf.file);
  } catch {
    nodes = [];
  }
  return { dialect, nodes, lines, eol, indentUnit: detectIndentUnit(lines) };
}

function pos(line: number, column: number): Pos {
  return { line, column };
}

function argView(a: Arg): SArg {
  return { value: a.value, raw: a.raw, start: pos(a.line, a.column), end: pos(a.endLine, a.endColumn) };
}

/** SNodes for the directives written in `file` (included files have their own text), iteratively. */
function viewOf(directives: Directive[], file: string): SNode[] {
  const roots: SNode[] = [];
  const stack: { ds: Directive[]; out: SNode[]; parent?: SNode }[] = [{ ds: directives, out: roots }];
  while (stack.length) {
    const { ds, out, parent } = stack.pop()!;
    for (const d of ds) {
      if (d.file !== file) continue;
      const n: SNode = {
        name: d.name,
        args: d.args.map(argView),
        start: pos(d.line, d.column),
        end: pos(d.endLine, d.endColumn),
        // The parser keeps the whitespace before a directive; it starts its line when nothing else precedes.
        indent: d.column === d.indent.length + 1 ? d.indent : undefined,
        parent,
        directive: d,
      };
      // nginx and Caddy blocks are braces, Apache sections tags, HAProxy sections have neither
      const open = d.dialect === 'apache' ? d.openTag : d.dialect === 'haproxy' ? undefined : d.openBrace;
      const close = d.dialect === 'apache' ? d.closeTag : d.dialect === 'haproxy' ? undefined : d.closeBrace;
      if (d.block && open) {
        n.children = [];
        n.bodyStart = pos(open.endLine, open.endColumn);
        if (close) n.bodyEnd = pos(close.line, close.column);
        stack.push({ ds: d.block, out: n.children, parent: n });
      }
      out.push(n);
    }
  }
  return roots;
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
