// Quick-fixes for haproxy.cfg and crt-list findings, built from the HAProxy parser's reading of the file's
// current text (the same parser the rules use). Pure: text + finding in, fixes out.
import type { CaChoice, Fix, FixOptions, TextEdit } from '../fixes';
import type { Arg, Finding, HaproxyDirective, ParsedFile } from '../types';
import { looksLikeCrtList, parseCrtList, parseHaproxy } from './parser';
import { HAPROXY_ORIGIN_PULL_CA, readOptions } from './analyze';

export { HAPROXY_ORIGIN_PULL_CA };
import { contains, insertAt, insertLinesAfterLine, replaceRange, textInfo, TextInfo } from '../caddy/edit';


/** The deny rule that refuses clients without a certificate and clients whose certificate did not verify. */
export const HAPROXY_DENY_RULE = 'http-request deny unless { ssl_c_used } { ssl_c_verify 0 }';

/** A value as an haproxy.cfg word: quoted when it holds blanks, quotes, `#` or `\`. */
export function haproxyArg(value: string): string {
  if (value && !/[\s"'#\\]/.test(value)) return value;
  return '"' + value.replace(/["\\$]/g, m => '\\' + m) + '"';
}

function caTitle(ca: CaChoice): string {
  return ca.kind === 'origin-pull' ? `Cloudflare origin-pull CA at ${ca.path}` : ca.label;
}

interface Ctx {
  t: TextInfo;
  finding: Finding;
  crtList: boolean;
  /** The frontend/listen section (haproxy.cfg). */
  section?: HaproxyDirective;
  /** The bind line (haproxy.cfg) or the crt-list line the finding is about. */
  line?: HaproxyDirective;
  /** The words the options are read from: the bind's arguments, or the crt-list line's `[...]`. */
  optionArgs: Arg[];
  http: boolean;
}

function context(text: string, finding: Finding, parsed?: ParsedFile): Ctx {
  const t = textInfo(text);
  // the linter's tree when it is the tree of this very text, else this file parsed now
  const asCfg = parsed?.dialect === 'haproxy' && parsed.file === finding.file ? parsed : parseHaproxy(text, finding.file);
  if (looksLikeCrtList(asCfg)) {
    const pf = parseCrtList(text, finding.file);
    const line = (pf.directives as HaproxyDirective[]).find(d => d.line <= finding.line && finding.line <= d.endLine);
    return { t, finding, crtList: true, line, optionArgs: line?.sslOptions ?? [], http: false };
  }
  const top = asCfg.directives as HaproxyDirective[];
  let section: HaproxyDirective | undefined;
  let defaultsMode = 'tcp';
  let http = false;
  for (const s of top) {
    const mode = ((s.block ?? []) as HaproxyDirective[]).filter(d => d.name === 'mode').pop()?.args[0]?.value;
    if (s.name === 'defaults' && mode) defaultsMode = mode;
    if (s.section && s.line <= finding.line && finding.line <= s.endLine && s.name !== 'defaults') { section = s; http = (mode ?? defaultsMode) === 'http'; }
  }
  const binds = ((section?.block ?? []) as HaproxyDirective[]).filter(d => d.name === 'bind');
  // on the bind itself (verify, ca-file values), or a range from the section to the bind (its last line)
  const line = binds.find(b => b.line <= finding.line && finding.line <= b.endLine) ?? binds.find(b => b.endLine === finding.endLine)
    ?? binds.find(b => b.line === finding.data?.directive?.line);
  return { t, finding, crtList: false, section, line, optionArgs: line ? line.args.slice(1) : [], http };
}

export function computeHaproxyFixes(text: string, finding: Finding, options: FixOptions = {}): Fix[] {
  const c = context(text, finding, options.parsed);
  const out: Fix[] = [];
  const push = (f: Fix | undefined) => { if (f && f.edits.length) out.push(f); };
  const cas = options.cas ?? [];
  if (c.line) {
    const o = readOptions(c.optionArgs, 0, finding.file);
    switch (finding.code) {
      case 'leg2-no-client-auth':
        if (o.caFile && !c.crtList) push(requireClientCert(c, undefined, true));
        else cas.forEach((ca, k) => push(requireClientCert(c, ca, k === 0)));
        break;
      case 'leg2-no-ca':
        cas.forEach((ca, k) => push(addCa(c, ca, k === 0)));
        break;
      case 'leg2-optional-unchecked':
        if (!o.ignoreErr && o.verify?.value === 'optional') push(setVerify(c, 'set-required', true));
        push(addDenyRule(c, !!o.ignoreErr || o.verify?.value !== 'optional'));
        break;
      case 'leg2-invalid-value':
        push(setVerify(c, 'fix-value', true));
        break;
      case 'leg2-ca-file':
        if (finding.data?.caProblem !== 'origin-pull-shared') {
          cas.filter(ca => ca.path !== finding.data?.caPathResolved && ca.path !== finding.data?.caPath)
            .forEach((ca, k) => push(replaceCa(c, ca, k === 0)));
        }
        break;
      default:
        break;
    }
  }
  if (finding.code.startsWith('leg2-')) push(ignoreFix(c));
  return out;
}

function optionValue(c: Ctx, key: string): Arg | undefined {
  let hit: Arg | undefined;
  for (let i = 0; i + 1 < c.optionArgs.length; i++) if (c.optionArgs[i].value === key) hit = c.optionArgs[i + 1];
  return hit;
}

/** Adds option words to the bind line (at its end) or to the crt-list line (in its `[...]`, made if missing). */
function addOptions(c: Ctx, words: string): TextEdit | undefined {
  const l = c.line!;
  if (!c.crtList) return insertAt(l.endLine, l.endColumn, ' ' + words);
  if (l.optionsClose) return insertAt(l.optionsClose.line, l.optionsClose.column, (l.sslOptions?.length ? ' ' : '') + words);
  return insertAt(l.nameRange.endLine, l.nameRange.endColumn, ` [${words}]`);
}

/** leg2-no-client-auth: `ca-file <CA> verify required` (verify none -> required). */
function requireClientCert(c: Ctx, ca: CaChoice | undefined, preferred: boolean): Fix | undefined {
  const edits: TextEdit[] = [];
  const words: string[] = [];
  if (ca) words.push(`ca-file ${haproxyArg(ca.path)}`);
  const verify = optionValue(c, 'verify');
  if (verify) edits.push(replaceRange(verify, 'required'));
  else words.push('verify required');
  if (words.length) edits.push(addOptions(c, words.join(' '))!);
  const title = ca ? `Require a client certificate: ca-file ${caTitle(ca)}, verify required` : 'Require a client certificate (verify required)';
  return { kind: 'require-client-cert', code: c.finding.code, title, edits, isPreferred: preferred, ca };
}

/** leg2-no-ca: `ca-file <CA>` right after the verify value. */
function addCa(c: Ctx, ca: CaChoice, preferred: boolean): Fix | undefined {
  const verify = optionValue(c, 'verify');
  const words = `ca-file ${haproxyArg(ca.path)}`;
  const edit = verify ? insertAt(verify.endLine, verify.endColumn, ' ' + words) : addOptions(c, words);
  return edit && { kind: 'add-client-ca', code: c.finding.code, title: `Add client CA: ${caTitle(ca)} (ca-file)`, edits: [edit], isPreferred: preferred, ca };
}

/** verify optional / an unknown value -> required. */
function setVerify(c: Ctx, kind: 'set-required' | 'fix-value', preferred: boolean): Fix | undefined {
  const verify = optionValue(c, 'verify');
  if (!verify || verify.value === 'required') return undefined;
  const title = kind === 'fix-value' ? `Change '${verify.value}' to 'required'` : 'Require the client certificate (verify required)';
  return { kind, code: c.finding.code, title, edits: [replaceRange(verify, 'required')], isPreferred: preferred };
}

/** leg2-optional-unchecked: the deny rule after the bind line (HTTP mode frontends only). */
function addDenyRule(c: Ctx, preferred: boolean): Fix | undefined {
  if (c.crtList || !c.section || !c.http) return undefined;
  const l = c.line!;
  return { kind: 'add-verify-check', code: c.finding.code, title: `Refuse clients without a verified certificate: ${HAPROXY_DENY_RULE}`, edits: [insertLinesAfterLine(c.t, l.endLine, [l.indent + HAPROXY_DENY_RULE])], isPreferred: preferred };
}

/** leg2-ca-file: point the ca-file at another CA. */
function replaceCa(c: Ctx, ca: CaChoice, preferred: boolean): Fix | undefined {
  const v = c.optionArgs.find((a, i) => i > 0 && c.optionArgs[i - 1].value === 'ca-file' && contains(a, c.finding.line, c.finding.column)) ?? optionValue(c, 'ca-file');
  return v && { kind: 'replace-ca', code: c.finding.code, title: `Use ${caTitle(ca)} as the client CA`, edits: [replaceRange(v, haproxyArg(ca.path))], isPreferred: preferred, ca };
}

/** `# mtls-lint: ignore <code>`: first line of the section, or the line above the crt-list line. */
function ignoreFix(c: Ctx): Fix | undefined {
  const marker = `# mtls-lint: ignore ${c.finding.code}`;
  if (c.crtList) {
    if (!c.line) return undefined;
    return { kind: 'ignore', code: c.finding.code, title: `Ignore ${c.finding.code} for this crt-list line (not behind Cloudflare)`, edits: [insertLinesAfterLine(c.t, c.line.line - 1, [c.line.indent + marker])] };
  }
  if (!c.section) return undefined;
  const first = (c.section.block ?? [])[0];
  const indent = first?.indent || c.section.indent + c.t.unit;
  return { kind: 'ignore', code: c.finding.code, title: `Ignore ${c.finding.code} in ${c.section.name} ${c.section.args[0]?.value ?? ''} (not behind Cloudflare)`, edits: [insertLinesAfterLine(c.t, c.section.nameRange.endLine, [indent + marker])] };
}
