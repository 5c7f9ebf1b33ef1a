// One entry per config dialect: its parser (shared by the rule pass and the quick-fixes), its rule pass, and,
// for dialects whose fixes are not built on the shared nginx/Apache structure view, its own quick-fixes.
// A new dialect is one entry here plus its name in `Dialect` and a rule for it in detect.ts.
import type { Dialect, Finding, ParsedFile } from './types';
import type { LintContext } from './common';
import type { Fix, FixOptions } from './fixes';
import { parseNginx } from './nginx/parser';
import { parseApache } from './apache/parser';
import { lintNginx } from './nginx/analyze';
import { lintApache } from './apache/analyze';
import { parseCaddy } from './caddy/parser';
import { lintCaddy } from './caddy/analyze';
import { computeCaddyFixes } from './caddy/fixes';
import { parseHaproxy } from './haproxy/parser';
import { lintHaproxy } from './haproxy/analyze';
import { computeHaproxyFixes } from './haproxy/fixes';

export interface DialectSupport {
  /** Parses one file (includes not followed); never throws; stops with a parse-error past `deadline`. */
  parse(text: string, file: string, options?: { deadline?: number }): ParsedFile;
  /** Follows includes from `root` (already parsed and registered in ctx) and adds the rules' findings. */
  lint(ctx: LintContext, root: ParsedFile): void;
  /**
   * The quick-fixes of one finding, from this dialect's own parse tree of `text` (`options.parsed` when it is
   * the tree of exactly this text). Absent: the shared nginx/Apache fixes in fixes/index.ts apply.
   */
  fixes?(text: string, finding: Finding, options: FixOptions): Fix[];
}

export const DIALECTS: Record<Dialect, DialectSupport> = {
  nginx: { parse: parseNginx, lint: lintNginx },
  apache: { parse: parseApache, lint: lintApache },
  caddy: { parse: parseCaddy, lint: lintCaddy, fixes: computeCaddyFixes },
  haproxy: { parse: parseHaproxy, lint: lintHaproxy, fixes: computeHaproxyFixes },
};
