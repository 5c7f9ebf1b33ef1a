// Line and indentation helpers shared by the rule passes and the quick-fixes.

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
