// Origin config linter for Leg 2: public API. Pure TypeScript, no vscode; never throws on bad input.
//
//   lintText(text, { file, dialect?, settings?, fs?, readFile?, fileExists?, resolveInclude? }) -> Finding[]
//   lintTextDetailed(...)  -> { dialect, findings, root, files }   (the parse tree as well)
//   lintFiles(paths, options?) -> Promise<Finding[]>   (files or folders; folders scanned for configs)
//   parseConfig(text, { file, dialect? })  -> ParsedFile   (one file, no includes followed)
//   detectDialect(file, text?) -> 'nginx' | 'apache' | 'caddy' | 'haproxy' | undefined
//   RULES[code] -> { severity, title, explanation, docs }
export * from './types';
export { RULES, LEG2_CODES } from './rules';
export { detectDialect, isLikelyConfigFile } from './detect';
export { parseConfig } from './parse';
export { lintText, lintTextDetailed, lintFiles, findConfigFiles, toJsonFinding, formatFindingText } from './lint';
