// Apache httpd configuration parser with exact positions. Follows httpd 2.4 (server/util.c
// ap_cfg_getline, ap_getword_conf; server/config.c): one directive per logical line; a backslash right
// before the newline continues the line; a logical line starting with `#` is a comment (a trailing `#`
// after a directive is an argument, as Apache reads it); `<Name args>` ... `</Name>` sections, names
// case-insensitive. Never throws.
import { ApacheDirective, Arg, Comment, Finding, ParsedFile, Range } from '../types';
import { capFindings, MAX_NESTING } from '../nginx/parser';

interface Segment {
  /** Offset of this segment in the logical line. */
  at: number;
  line: number;
  /** Column (1-based) of the segment's first character in its physical line. */
  column: number;
  /** Offset in the whole text of the segment's first character. */
  textOffset: number;
}

interface LogicalLine {
  s: string;
  segs: Segment[];
  /** Physical line after the logical line (for the next read). */
  lastLine: number;
}

export interface ApacheParseOptions {
  deadline?: number;
}

function isWs(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f' || c === '\v';
}

class Reader {
  pos = 0;
  line = 1;
  constructor(readonly text: string) {}

  /** Reads the next logical line, joining `\`-newline continuations. Undefined at end of text. */
  read(): LogicalLine | undefined {
    const t = this.text;
    if (this.pos >= t.length) return undefined;
    const segs: Segment[] = [];
    let s = '';
    for (;;) {
      const start = this.pos;
      let nl = t.indexOf('\n', start);
      const hasNl = nl >= 0;
      if (!hasNl) nl = t.length;
      let end = nl;
      if (end > start && t.charCodeAt(end - 1) === 13) end--;
      // Continuation: a backslash right before the newline that is not itself escaped.
      const cont = hasNl && end > start && t.charCodeAt(end - 1) === 92 && !(end - 1 > start && t.charCodeAt(end - 2) === 92);
      segs.push({ at: s.length, line: this.line, column: 1, textOffset: start });
      s += t.slice(start, cont ? end - 1 : end);
      this.pos = hasNl ? nl + 1 : t.length;
      const lineOfSeg = this.line;
      if (hasNl) this.line++;
      if (!cont || this.pos >= t.length) {
        return { s, segs, lastLine: lineOfSeg };
      }
    }
  }
}

/** Position of an offset within a logical line. */
function posAt(ll: LogicalLine, off: number): { line: number; column: number } {
  let seg = ll.segs[0];
  for (let i = 1; i < ll.segs.length; i++) {
    if (ll.segs[i].at <= off) seg = ll.segs[i];
    else break;
  }
  return { line: seg.line, column: seg.column + (off - seg.at) };
}

/** Range of [start, end) offsets of a logical line; an end at a segment boundary stays on the earlier line. */
function rangeAt(ll: LogicalLine, start: number, end: number): Range {
  const a = posAt(ll, start);
  let b: { line: number; column: number };
  if (end > start) {
    const last = posAt(ll, end - 1);
    b = { line: last.line, column: last.column + 1 };
  } else {
    b = a;
  }
  return { line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
}

interface Word {
  start: number;
  end: number;
  value: string;
  quote?: '"' | "'";
}

/** ap_getword_conf over a string, from offset `from` to `to`. */
function words(s: string, from: number, to: number): Word[] {
  const out: Word[] = [];
  let i = from;
  for (;;) {
    while (i < to && isWs(s[i])) i++;
    if (i >= to) break;
    const q = s[i];
    if (q === '"' || q === "'") {
      let e = i + 1;
      let v = '';
      while (e < to && s[e] !== q) {
        if (s[e] === '\\' && e + 1 < to && (s[e + 1] === q || s[e + 1] === '\\')) { v += s[e + 1]; e += 2; continue; }
        v += s[e];
        e++;
      }
      if (e < to) e++; // closing quote
      out.push({ start: i, end: e, value: v, quote: q as '"' | "'" });
      i = e;
    } else {
      let e = i;
      while (e < to && !isWs(s[e])) e++;
      const raw = s.slice(i, e);
      out.push({ start: i, end: e, value: raw.indexOf('\\\\') >= 0 ? raw.replace(/\\\\/g, '\\') : raw });
      i = e;
    }
  }
  return out;
}

interface Frame {
  owner?: ApacheDirective;
  children: ApacheDirective[];
}

function indentOf(text: string, offset: number): string {
  let p = offset;
  while (p > 0) {
    const c = text.charCodeAt(p - 1);
    if (c === 10) break;
    if (c !== 32 && c !== 9) return '';
    p--;
  }
  return text.slice(p, offset);
}

/** Parses one Apache file (includes are not followed here). */
export function parseApache(text: string, file: string, options: ApacheParseOptions = {}): ParsedFile {
  const comments: Comment[] = [];
  const findings: Finding[] = [];
  const rd = new Reader(text);
  const root: Frame = { children: [] };
  const stack: Frame[] = [root];
  const err = (r: Range, message: string) => findings.push({ file, ...r, severity: 'error', code: 'parse-error', message });
  let count = 0;
  let tooDeep = false;
  /** Open sections by lower-case name. */
  const openCount = new Map<string, number>();
  const popFrame = (): Frame => {
    const f = stack.pop()!;
    const ln = f.owner!.name.toLowerCase();
    openCount.set(ln, (openCount.get(ln) ?? 1) - 1);
    return f;
  };
  for (;;) {
    if (options.deadline !== undefined && (++count & 0x7ff) === 0 && Date.now() > options.deadline) {
      err({ line: rd.line, column: 1, endLine: rd.line, endColumn: 1 }, 'The file is too large or complex to check within the time limit; the rest of it was not checked.');
      break;
    }
    const ll = rd.read();
    if (!ll) break;
    const s = ll.s;
    let i = 0;
    while (i < s.length && isWs(s[i])) i++;
    if (i >= s.length) continue;
    let end = s.length;
    while (end > i && isWs(s[end - 1])) end--;
    const frame = stack[stack.length - 1];
    if (s[i] === '#') {
      const r = rangeAt(ll, i, end);
      comments.push({ ...r, text: s.slice(i + 1, end) });
      continue;
    }
    const indent = indentOf(text, ll.segs[0].textOffset + i);
    if (s[i] === '<' && s[i + 1] === '/') {
      // One or more closing tags (`</VirtualHost> </IfModule>` is accepted by Apache).
      let j = i;
      while (j < end) {
        while (j < end && isWs(s[j])) j++;
        if (j >= end) break;
        if (!(s[j] === '<' && s[j + 1] === '/')) {
          err(rangeAt(ll, j, end), `unexpected text after a closing tag: "${s.slice(j, end).slice(0, 60)}"`);
          break;
        }
        let k = j + 2;
        while (k < end && s[k] !== '>' && !isWs(s[k])) k++;
        const name = s.slice(j + 2, k);
        let close = k;
        while (close < end && s[close] !== '>') close++;
        const tagEnd = close < end ? close + 1 : end;
        const tagRange = rangeAt(ll, j, tagEnd);
        if (close >= end) err(tagRange, `the closing tag </${name}> is missing its ">"`);
        // Find the matching open section (innermost first); a name with no open section is unmatched at once.
        const lower = name.toLowerCase();
        let m = stack.length - 1;
        if (!openCount.get(lower)) m = 0;
        else while (m > 0 && stack[m].owner!.name.toLowerCase() !== lower) m--;
        if (m === 0) {
          err(tagRange, `</${name}> without a matching <${name}> section`);
        } else {
          while (stack.length - 1 > m) {
            const inner = popFrame().owner!;
            err(inner.openTag!, `<${inner.name}> is not closed before </${name}> (Apache refuses this file)`);
            inner.endLine = tagRange.line;
            inner.endColumn = tagRange.column;
          }
          const sec = popFrame().owner!;
          sec.closeTag = tagRange;
          sec.endLine = tagRange.endLine;
          sec.endColumn = tagRange.endColumn;
        }
        j = tagEnd;
      }
      continue;
    }
    if (s[i] === '<') {
      let k = i + 1;
      while (k < end && !isWs(s[k]) && s[k] !== '>') k++;
      const name = s.slice(i + 1, k);
      let argsEnd = end;
      const tagEnd = end;
      if (s[end - 1] === '>') {
        argsEnd = end - 1;
      } else {
        err(rangeAt(ll, i, end), `<${name}> is missing its closing ">"`);
      }
      if (name === '') {
        err(rangeAt(ll, i, end), 'a section tag needs a name after "<"');
      }
      const ws = words(s, k, argsEnd);
      const args: Arg[] = ws.map(w => ({ value: w.value, raw: s.slice(w.start, w.end), ...rangeAt(ll, w.start, w.end), ...(w.quote ? { quote: w.quote } : {}) }));
      const openTag = rangeAt(ll, i, tagEnd);
      const block: ApacheDirective[] = [];
      const d: ApacheDirective = {
        dialect: 'apache',
        name,
        nameRange: rangeAt(ll, i + 1, k),
        args,
        file,
        indent,
        section: true,
        openTag,
        block,
        ...openTag,
      };
      frame.children.push(d);
      if (stack.length > MAX_NESTING) {
        // Deeper than any real config: keep pairing the tags, but put what follows in the section at the
        // limit, so the tree every check walks stays shallow.
        if (!tooDeep) { tooDeep = true; err(d.openTag!, `sections nested more than ${MAX_NESTING} deep; the deeper levels are read as part of the section at that depth`); }
        stack.push({ owner: d, children: frame.children });
      } else {
        stack.push({ owner: d, children: block });
      }
      const ln = name.toLowerCase();
      openCount.set(ln, (openCount.get(ln) ?? 0) + 1);
      continue;
    }
    let k = i;
    while (k < end && !isWs(s[k])) k++;
    const ws = words(s, k, end);
    const args: Arg[] = ws.map(w => ({ value: w.value, raw: s.slice(w.start, w.end), ...rangeAt(ll, w.start, w.end), ...(w.quote ? { quote: w.quote } : {}) }));
    const nameRange = rangeAt(ll, i, k);
    const whole = rangeAt(ll, i, ws.length ? ws[ws.length - 1].end : k);
    frame.children.push({ dialect: 'apache', name: s.slice(i, k), nameRange, args, file, indent, ...whole });
  }
  let lineCount = 1;
  for (let p = text.indexOf('\n'); p >= 0; p = text.indexOf('\n', p + 1)) lineCount++;
  const lastLen = text.length - (text.lastIndexOf('\n') + 1);
  while (stack.length > 1) {
    const sec = popFrame().owner!;
    if (/^If/i.test(sec.name)) {
      // httpd 2.4 accepts an unclosed <IfModule>/<IfDefine> at the end of a file when its condition holds.
      findings.push({ file, ...sec.openTag!, severity: 'warning', code: 'parse-error', message: `<${sec.name}> is never closed (missing </${sec.name}>); Apache accepts this only while the condition is true.` });
    } else {
      err(sec.openTag!, `<${sec.name}> is never closed (missing </${sec.name}>; Apache refuses this file)`);
    }
    sec.endLine = lineCount;
    sec.endColumn = lastLen + 1;
  }
  return { file, dialect: 'apache', directives: root.children, comments, findings: capFindings(findings), lineCount };
}
