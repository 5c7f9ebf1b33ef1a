// Public types of the origin-config linter. Pure data: no vscode, no fs.
//
// Positions everywhere are 1-based lines and 1-based columns counted in UTF-16 code units of the
// file's text (what a JS string index and VS Code's Position count), a tab counting as one column.
// `endColumn` is exclusive: a range {line:3, column:5, endLine:3, endColumn:9} covers 4 characters,
// from the 5th to the 8th of line 3. To convert to VS Code: new Range(line-1, column-1, endLine-1, endColumn-1).

export type Dialect = 'nginx' | 'apache' | 'caddy' | 'haproxy';

export type Severity = 'error' | 'warning' | 'information';

/** A span of text in one file (1-based, end exclusive). */
export interface Range {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** A position (1-based line and column). */
export interface Position {
  line: number;
  column: number;
}

/** One argument of a directive, as written and as the server reads it. */
export interface Arg extends Range {
  /** The value after unquoting and unescaping (and, for Apache, `${VAR}` substitution where defined). */
  value: string;
  /** The exact source text, quotes included. */
  raw: string;
  /** The quote character when the argument was quoted. */
  quote?: '"' | "'";
}

interface DirectiveBase extends Range {
  /** The directive or section name as written (`ssl_verify_client`, `SSLVerifyClient`, `VirtualHost`). */
  name: string;
  /** The name's own range (for nginx and plain Apache directives it starts at the directive's start). */
  nameRange: Range;
  args: Arg[];
  /** Absolute (or as given) path of the file this directive is written in. */
  file: string;
  /** Whitespace before the directive on its line ('' if something else precedes it on the line). */
  indent: string;
  /** Children of a block (nginx `{ ... }`) or section (Apache `<Name> ... </Name>`). */
  block?: Directive[];
  /** For `include` / `Include` / `IncludeOptional`: the files it pulled in, parsed (empty if none matched). */
  included?: ParsedFile[];
}

/**
 * An nginx directive. The range runs from the name to the terminating `;` or the closing `}`
 * inclusive. Lua blocks (`*_by_lua_block { ... }`) are kept raw: `block` is absent and `rawBlock` holds
 * the Lua source range.
 */
export interface NginxDirective extends DirectiveBase {
  dialect: 'nginx';
  /** The `{` and `}` of a block (closeBrace absent when the file ended before it). */
  openBrace?: Range;
  closeBrace?: Range;
  /** The `;` ending a simple directive (absent when missing). */
  semicolon?: Range;
  /** Range of the raw body of a `*_by_lua_block`, between the braces. */
  rawBlock?: Range;
}

/**
 * An Apache directive or section. For a section the range runs from `<` of the opening tag to `>` of the
 * closing tag inclusive; `openTag`/`closeTag` give the tags' own ranges. Line continuations (`\` at end
 * of line) are joined, so a directive's range may span several lines.
 */
export interface ApacheDirective extends DirectiveBase {
  dialect: 'apache';
  /** True for `<Section ...>`; name is without `<`, e.g. `VirtualHost`, `IfModule`. */
  section?: boolean;
  openTag?: Range;
  closeTag?: Range;
  /**
   * For sections the linter evaluates: false when the section is inactive (e.g. `<IfDefine !X>` with X
   * defined, `<IfModule !mod_ssl.c>`); undefined means active.
   */
  active?: boolean;
}

/**
 * A Caddyfile line: its tokens (name and arguments) and, when the line ends with `{`, the block that
 * follows. At the top level a block's key line is the site's addresses (or a snippet's `(name)`, or
 * nothing for the global options block). Placeholders such as `{$ENV}` and `{env.X}` are kept as written.
 */
export interface CaddyDirective extends DirectiveBase {
  dialect: 'caddy';
  openBrace?: Range;
  closeBrace?: Range;
}

/**
 * A haproxy.cfg section (`global`, `defaults`, `frontend`, `listen`, `backend`, ...; `section` true,
 * its lines in `block`) or one line of a section, or one line of a crt-list file (`crtListEntry` true:
 * the name is the certificate, `sslOptions` the `[...]` options, `sniFilters` the rest).
 */
export interface HaproxyDirective extends DirectiveBase {
  dialect: 'haproxy';
  section?: boolean;
  crtListEntry?: boolean;
  sslOptions?: Arg[];
  /** The `[` and `]` around a crt-list line's options. */
  optionsOpen?: Range;
  optionsClose?: Range;
  sniFilters?: Arg[];
}

export type Directive = NginxDirective | ApacheDirective | CaddyDirective | HaproxyDirective;

/** A comment (`# ...`), kept for `mtls-lint:` markers. */
export interface Comment extends Range {
  /** Text after `#`, untrimmed. */
  text: string;
}

/** One parsed file. */
export interface ParsedFile {
  file: string;
  dialect: Dialect;
  directives: Directive[];
  comments: Comment[];
  /** parse-error findings of this file (never thrown). */
  findings: Finding[];
  /** Number of lines in the file. */
  lineCount: number;
}

// ---------------------------------------------------------------------------------------------------
// Findings

export type RuleCode =
  | 'leg2-no-client-auth'
  | 'leg2-no-ca'
  | 'leg2-optional-unchecked'
  | 'leg2-invalid-value'
  | 'leg2-ca-file'
  | 'leg2-trusted-not-sent'
  | 'leg2-verify-depth'
  | 'leg2-per-directory-verify'
  | 'tls-no-certificate'
  | 'parse-error'
  | 'unreadable';

/** A directive as a quick-fix needs it. */
export interface DirectiveRef extends Range {
  file: string;
  name: string;
  /** The arguments' values, unquoted. */
  args: string[];
  /** Range of the first argument (the value a fix replaces), when there is one. */
  valueRange?: Range;
  /** Range of all arguments together (first argument start to last argument end). */
  argsRange?: Range;
  /** Whitespace before the directive on its line. */
  indent: string;
  /**
   * Range of the whole line(s) the directive occupies, from column 1 of its first line to column 1 of the
   * line after it, for deleting it with its line; absent when other text shares its lines.
   */
  fullLinesRange?: Range;
}

/** The nginx `server { }` or Apache `<VirtualHost>` a finding is about. */
export interface BlockRef extends Range {
  file: string;
  /** `server` or `VirtualHost`. */
  kind: 'server' | 'VirtualHost';
  /** server_name / ServerName + ServerAlias values. */
  serverNames: string[];
  /** listen / VirtualHost address arguments. */
  addresses: string[];
  /** Indentation of the block's opening line. */
  indent: string;
  /**
   * Indentation for a directive inside the block: that of its first child directive if any, else `indent`
   * plus the file's indentation unit (detected; 4 spaces by default).
   */
  innerIndent: string;
  /** The newline the file uses ('\n' or '\r\n'). */
  eol: string;
  /** Position just after the `{` / the `>` of `<VirtualHost ...>`. */
  bodyStart: Position;
  /** Position of the `}` / `<` of `</VirtualHost>` (absent if the block is unterminated). */
  bodyEnd?: Position;
  /**
   * Where new TLS directives go: after the last `ssl_*` / `SSL*` directive written directly in the block
   * in this file, else after the opening `{` / `<VirtualHost ...>`.
   * - insertAtLineStart true: insertAt is column 1 of the following line; insert `innerIndent + text + eol`.
   * - insertAtLineStart false (one-line blocks, or more text follows on that line): insertAt is just after
   *   that directive / the `{`; insert `eol + innerIndent + text`.
   */
  insertAt: Position;
  insertAtLineStart: boolean;
}

/** What a quick-fix needs. Every field is optional; rules fill what applies. */
export interface FindingData {
  dialect?: Dialect;
  /** The server / VirtualHost block concerned. */
  block?: BlockRef;
  /** The directive the finding is on (e.g. ssl_verify_client, SSLVerifyClient, ssl_trusted_certificate). */
  directive?: DirectiveRef;
  /** The client-verification directive in effect (possibly inherited from an outer scope). */
  verifyClient?: DirectiveRef;
  /** The client CA directive in effect (ssl_client_certificate / SSLCACertificateFile / ...Path). */
  clientCa?: DirectiveRef;
  /** nginx ssl_trusted_certificate in effect. */
  trustedCa?: DirectiveRef;
  /** The depth directive in effect. */
  verifyDepth?: DirectiveRef;
  /** For leg2-invalid-value: the accepted values, best replacement first. */
  validValues?: string[];
  /** For leg2-invalid-value / leg2-optional-unchecked: the suggested replacement value. */
  suggestedValue?: string;
  /** The CA path as written and resolved. */
  caPath?: string;
  caPathResolved?: string;
  /** leg2-ca-file sub-kind. */
  caProblem?: CaProblem;
  /** CA facts where read: subject, SHA-256 fingerprint (AA:BB:..), notAfter ISO date. */
  caSubject?: string;
  caFingerprint256?: string;
  caNotAfter?: string;
  /** Suggested verify depth (leg2-verify-depth). */
  suggestedDepth?: number;
  /** Snippet text (without indentation) a fix may insert, one directive per entry. */
  suggestedDirectives?: string[];
}

export type CaProblem =
  | 'missing'
  | 'unreadable'
  | 'empty'
  | 'no-certificate'
  | 'key-only'
  | 'not-ca'
  | 'expired'
  | 'not-yet-valid'
  | 'cloudflare-origin-ca'
  | 'origin-pull-shared';

export interface Finding extends Range {
  file: string;
  severity: Severity;
  code: RuleCode;
  message: string;
  data?: FindingData;
}

/** What `mtls lint --format json` prints per finding. */
export type JsonFinding = Pick<Finding, 'file' | 'line' | 'column' | 'endLine' | 'endColumn' | 'severity' | 'code' | 'message'>;

export interface RuleInfo {
  severity: Severity;
  title: string;
  /** A few sentences in the guide's terms: what is wrong and what to do. */
  explanation: string;
  /** Link to the relevant upstream documentation. */
  docs: string;
}

// ---------------------------------------------------------------------------------------------------
// Options

/** File access the linter uses; inject it in tests or to read unsaved editor buffers. All synchronous. */
export interface LintFs {
  /** File content, or undefined when it does not exist or cannot be read. */
  readFile(path: string): string | undefined;
  /** Raw bytes (CA files), or undefined. Defaults to readFile's text as UTF-8. */
  readBytes?(path: string): Uint8Array | undefined;
  fileExists(path: string): boolean;
  /** Entries (names, not paths) of a folder, or undefined when it is not a readable folder. */
  listDir(path: string): string[] | undefined;
  isDirectory(path: string): boolean;
  /**
   * Why a path that exists cannot be read as a config (a FIFO, a device, larger than the size cap), or
   * undefined. Used to turn such paths into `unreadable` findings instead of silently skipping them.
   */
  problem?(path: string): string | undefined;
}

export interface LintSettings {
  /** Rule codes never reported (setting mtls.lint.ignore). */
  ignoreCodes?: string[];
  /**
   * Server names whose blocks get no Leg 2 findings (sites not behind Cloudflare). `*.example.com` and
   * `*` wildcards allowed. Matched against server_name / ServerName / ServerAlias / Caddy site hosts.
   */
  ignoreServerNames?: string[];
  /** Read CA files named by the config (default true). */
  checkCaFiles?: boolean;
  /** Report leg2-verify-depth (default true). */
  checkVerifyDepth?: boolean;
  /** "Now" for expiry checks (default: the current time). */
  now?: Date;
  /** Workspace folder: the last fallback for relative include and CA paths. */
  workspaceRoot?: string;
  /** nginx prefix / conf dir for relative paths (default: the main file's folder). */
  nginxPrefix?: string;
  /** Apache ServerRoot (default: a ServerRoot directive, else the main file's folder). */
  apacheServerRoot?: string;
  /**
   * Path of the client CA on the server, written into suggestions (setting mtls.lint.serverCaPath.<dialect>;
   * default /etc/nginx/cloudflare/origin-pull-ca.pem, /etc/apache2/cloudflare/origin-pull-ca.pem).
   */
  serverCaPath?: string;
  /** Apache `-D` names considered defined (for `<IfDefine>`), in addition to `Define`s. */
  apacheDefines?: string[];
}

export interface LintOptions {
  /** Path of the text (absolute preferred): used in findings and to resolve relative paths. */
  file: string;
  /** Forced dialect; detected from name and content when absent. */
  dialect?: Dialect;
  settings?: LintSettings;
  /** File access; missing members fall back to Node's fs. */
  fs?: Partial<LintFs>;
  /** Shorthands for fs.readFile / fs.fileExists, for callers that only read files. */
  readFile?: (path: string) => string | undefined;
  fileExists?: (path: string) => boolean;
  /**
   * Resolves an include pattern (as written, globs allowed) to absolute file paths, replacing the default
   * resolution (relative to prefix / ServerRoot, the including file's folder, the workspace).
   */
  resolveInclude?: (pattern: string, fromFile: string, dialect: Dialect) => string[];
  /** Follow include directives (default true). */
  followIncludes?: boolean;
  /** Time budget in ms for parsing+linting one root (default 5000); past it the rest is skipped with a finding. */
  timeBudgetMs?: number;
}

/** lintText's full answer, for callers that also want the tree. */
export interface LintResult {
  dialect: Dialect;
  findings: Finding[];
  /** The root file's parse (includes reachable through `included`). */
  root: ParsedFile;
  /** Every file parsed, root first. */
  files: ParsedFile[];
}
