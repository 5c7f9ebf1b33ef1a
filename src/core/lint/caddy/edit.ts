// Text-edit helpers shared by the Caddy and HAProxy quick-fixes: line-oriented inserts in the file's own
// indentation and line endings. Positions are the linter's (1-based, end exclusive).
import type { TextEdit } from '../fixes';
import type { Range } from '../types';

export interface TextInfo {
  lines: string[];
  eol: string;
  /** One level of indentation as the file writes it (a tab, or the smallest step of spaces; default 4). */
  unit: string;
}

export function textInfo(text: string): TextInfo {
  const lines = text.split(/\r\n|\n|\r/);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let tabs = 0, spaces = 0, min = Infinity;
  for (const l of lines) {
    const m = /^[ \t]*/.exec(l)![0];
    if (!l.trim() || !m) continue;
    if (m.startsWith('\t')) tabs++;
    else { spaces++; if (m.length < min) min = m.length; }
  }
  const unit = tabs >= spaces && tabs > 0 ? '\t' : min >= 2 && min <= 8 ? ' '.repeat(min) : '    ';
  return { lines, eol, unit };
}

/** Inserts whole lines (already indented) after line `line` (or at the end of the file). */
export function insertLinesAfterLine(t: TextInfo, line: number, body: string[]): TextEdit {
  if (line < t.lines.length) return { range: { line: line + 1, column: 1, endLine: line + 1, endColumn: 1 }, newText: body.map(l => l + t.eol).join('') };
  const end = (t.lines[line - 1] ?? '').length + 1;
  return { range: { line, column: end, endLine: line, endColumn: end }, newText: body.map(l => t.eol + l).join('') };
}

/** Inserts text at a position. */
export function insertAt(line: number, column: number, newText: string): TextEdit {
  return { range: { line, column, endLine: line, endColumn: column }, newText };
}

export function replaceRange(r: Range, newText: string): TextEdit {
  return { range: { line: r.line, column: r.column, endLine: r.endLine, endColumn: r.endColumn }, newText };
}

export function contains(r: Range, line: number, column: number): boolean {
  if (line < r.line || line > r.endLine) return false;
  if (line === r.line && column < r.column) return false;
  if (line === r.endLine && column >= r.endColumn) return false;
  return true;
}

/** True when nothing but blanks (and a `#` comment) follows `column` on the line. */
export function restIsBlank(t: TextInfo, line: number, column: number): boolean {
  return /^\s*(#.*)?$/.test((t.lines[line - 1] ?? '').slice(column - 1));
}
