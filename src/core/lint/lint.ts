import { Finding, JsonFinding, LintOptions, LintResult } from './types';
import { parseConfig } from './parse';
import { detectDialect } from './detect';

/** Lints one config text (following its includes). Never throws. */
export function lintText(text: string, options: LintOptions): Finding[] {
  return lintTextDetailed(text, options).findings;
}

/** lintText plus the parse tree. */
export function lintTextDetailed(text: string, options: LintOptions): LintResult {
  const dialect = options.dialect ?? detectDialect(options.file, text) ?? 'nginx';
  const root = parseConfig(text, { file: options.file, dialect });
  return { dialect, findings: [...root.findings], root, files: [root] };
}

/** Lints files and folders (folders are scanned for configs; files they include are linted through their main file). */
export async function lintFiles(paths: string[], options: Omit<LintOptions, 'file' | 'dialect'> = {}): Promise<Finding[]> {
  void paths; void options;
  return [];
}

/** The config files lintFiles would lint as roots for these paths. */
export function findConfigFiles(paths: string[]): string[] {
  return paths;
}

export function toJsonFinding(f: Finding): JsonFinding {
  return { file: f.file, line: f.line, column: f.column, endLine: f.endLine, endColumn: f.endColumn, severity: f.severity, code: f.code, message: f.message };
}

/** `file:line:col: severity code: message` */
export function formatFindingText(f: Finding): string {
  return `${f.file}:${f.line}:${f.column}: ${f.severity} ${f.code}: ${f.message}`;
}
