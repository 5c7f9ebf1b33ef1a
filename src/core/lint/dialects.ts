// One entry per config dialect: its parser (shared by the rule pass and the quick-fixes) and its rule pass.
// A new dialect is one entry here plus its name in `Dialect` and a rule for it in detect.ts.
import type { Dialect, ParsedFile } from './types';
import type { LintContext } from './common';
import { parseNginx } from './nginx/parser';
import { parseApache } from './apache/parser';
import { lintNginx } from './nginx/analyze';
import { lintApache } from './apache/analyze';

export interface DialectSupport {
  /** Parses one file (includes not followed); never throws; stops with a parse-error past `deadline`. */
  parse(text: string, file: string, options?: { deadline?: number }): ParsedFile;
  /** Follows includes from `root` (already parsed and registered in ctx) and adds the rules' findings. */
  lint(ctx: LintContext, root: ParsedFile): void;
}

export const DIALECTS: Record<Dialect, DialectSupport> = {
  nginx: { parse: parseNginx, lint: lintNginx },
  apache: { parse: parseApache, lint: lintApache },
};
