// HAProxy: the parser's positions, and every Leg 2 verdict proven against the real haproxy (haproxy -c,
// then a client without a certificate, one from the right CA and one from another CA), with the quick-fix
// applied and proven the same way. crt-list lines included.
import * as assert from 'assert';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { lintText, lintFiles, detectDialect, parseConfig, Finding, HaproxyDirective, RuleCode } from '../../../src/core/lint';
import { applyEdits, computeFixes, CaChoice, FixKind } from '../../../src/core/lint/fixes';
import { HAPROXY_ORIGIN_PULL_CA } from '../../../src/core/lint/haproxy/fixes';
import { serverCaPath } from '../../../src/core/lint/serverCa';
import { originConfigSnippet } from '../../../src/core/cloudflare/snippets';
import { parseCrtList } from '../../../src/core/lint/haproxy/parser';
import { makeTestPki, TestPki } from '../../support/openssl';
import { curl, haproxyConfigTest, startHaproxy } from '../../support/servers';
import { Admitted, admitted, CLOSED, materialize, snippetBody } from './helpers';

const RESPOND = '\thttp-request return status 200 content-type text/plain string "origin ok"';
const frontend = (bindOptions: string, rules = '') => `frontend fe\n\tmode http\n\tbind 127.0.0.1:__PORT__ ssl crt BUNDLE${bindOptions}\n${rules ? rules + '\n' : ''}${RESPOND}\n`;

interface Case {
  name: string;
  text: string;
  codes: RuleCode[];
  /** Does `haproxy -c` accept it? */
  valid: boolean;
  admits?: Admitted;
  fix?: FixKind;
}

const OPEN: Admitted = { anonymous: true, good: true, foreign: true };
const OPTIONAL: Admitted = { anonymous: true, good: true, foreign: false };

const CASES: Case[] = [
  { name: 'ssl bind without verify -> leg2-no-client-auth', text: frontend(''), codes: ['leg2-no-client-auth'], valid: true, admits: OPEN, fix: 'require-client-cert' },
  { name: 'ca-file without verify still verifies nothing -> leg2-no-client-auth', text: frontend(' ca-file CA'), codes: ['leg2-no-client-auth'], valid: true, admits: OPEN, fix: 'require-client-cert' },
  { name: 'verify none -> leg2-no-client-auth', text: frontend(' verify none'), codes: ['leg2-no-client-auth'], valid: true, admits: OPEN, fix: 'require-client-cert' },
  { name: 'verify required without ca-file -> leg2-no-ca', text: frontend(' verify required'), codes: ['leg2-no-ca'], valid: false, fix: 'add-client-ca' },
  { name: 'verify optional without a deny rule -> leg2-optional-unchecked (fix: required)', text: frontend(' ca-file CA verify optional'), codes: ['leg2-optional-unchecked'], valid: true, admits: OPTIONAL, fix: 'set-required' },
  { name: 'verify optional without a deny rule -> leg2-optional-unchecked (fix: deny rule)', text: frontend(' ca-file CA verify optional'), codes: ['leg2-optional-unchecked'], valid: true, admits: OPTIONAL, fix: 'add-verify-check' },
  { name: 'verify optional, the rule tests only ssl_c_verify (0 without a certificate) -> leg2-optional-unchecked', text: frontend(' ca-file CA verify optional', '\thttp-request deny unless { ssl_c_verify 0 }'), codes: ['leg2-optional-unchecked'], valid: true, admits: OPTIONAL, fix: 'set-required' },
  { name: 'verify optional with deny unless { ssl_c_used } -> no finding', text: frontend(' ca-file CA verify optional', '\thttp-request deny unless { ssl_c_used }'), codes: [], valid: true, admits: CLOSED },
  { name: 'crt-ignore-err all lets a foreign certificate in past a ssl_c_used rule -> leg2-optional-unchecked', text: frontend(' ca-file CA verify optional crt-ignore-err all', '\thttp-request deny unless { ssl_c_used }'), codes: ['leg2-optional-unchecked'], valid: true, admits: { anonymous: false, good: true, foreign: true }, fix: 'add-verify-check' },
  { name: 'verify required with crt-ignore-err all and no rule -> leg2-optional-unchecked', text: frontend(' ca-file CA verify required crt-ignore-err all'), codes: ['leg2-optional-unchecked'], valid: true, admits: { anonymous: false, good: true, foreign: true }, fix: 'add-verify-check' },
  { name: 'crt-ignore-err all with named ACLs checking both -> no finding', text: frontend(' ca-file CA verify optional crt-ignore-err all', '\tacl has_cert ssl_c_used\n\tacl cert_ok ssl_c_verify 0\n\thttp-request deny if !has_cert || !cert_ok'), codes: [], valid: true, admits: CLOSED },
  { name: 'verify requried (unknown) -> leg2-invalid-value', text: frontend(' ca-file CA verify requried'), codes: ['leg2-invalid-value'], valid: false, fix: 'fix-value' },
  { name: 'missing ca-file -> leg2-ca-file', text: frontend(' ca-file __DIR__/missing.pem verify required'), codes: ['leg2-ca-file'], valid: false, fix: 'replace-ca' },
  { name: 'ssl without crt -> tls-no-certificate', text: `frontend fe\n\tmode http\n\tbind 127.0.0.1:__PORT__ ssl verify required ca-file CA\n${RESPOND}\n`, codes: ['tls-no-certificate'], valid: false },
  { name: 'ca-file + verify required -> no finding', text: frontend(' ca-file CA verify required'), codes: [], valid: true, admits: CLOSED },
  { name: 'listen section with verify required -> no finding', text: `listen li\n\tmode http\n\tbind 127.0.0.1:__PORT__ ssl crt BUNDLE ca-file CA verify required\n${RESPOND}\n`, codes: [], valid: true, admits: CLOSED },
  { name: 'ignore marker: the bind stays open, the finding is gone', text: frontend(''), codes: ['leg2-no-client-auth'], valid: true, admits: OPEN, fix: 'ignore' },
];

describe('HAProxy linter against the real haproxy', function () {
  this.timeout(120000);
  let pki: TestPki;
  let bundle: string;
  let ca: CaChoice;
  before(() => {
    pki = makeTestPki();
    bundle = path.join(pki.dir, 'server.bundle.pem');
    fs.writeFileSync(bundle, fs.readFileSync(pki.serverCert, 'utf8') + fs.readFileSync(pki.serverKey, 'utf8'));
    ca = { path: pki.caCert, label: 'workspace CA test', kind: 'workspace' };
  });
  after(() => pki?.remove());

  const lintOf = (text: string, file = path.join(pki.dir, 'haproxy.cfg')): Finding[] => lintText(text, { file, settings: { workspaceRoot: pki.dir } })
    .filter(f => f.code !== 'parse-error');

  for (const c of CASES) {
    it(c.name, async () => {
      const text = materialize(c.text, pki, bundle);
      const findings = lintOf(text);
      assert.deepStrictEqual(findings.map(f => f.code), c.codes, JSON.stringify(findings, null, 1));
      const check = await haproxyConfigTest(text);
      assert.strictEqual(check.ok, c.valid, `haproxy -c: ${check.output.slice(-800)}\n${text}`);
      if (c.valid && c.admits) {
        const server = await startHaproxy(text);
        try {
          assert.deepStrictEqual(await admitted(server, pki), c.admits, server.errorLog().slice(-1500));
        } finally {
          await server.stop();
        }
      }
      if (!c.fix) return;
      const fixes = computeFixes(text, findings[0], { cas: [ca] });
      const fix = fixes.find(f => f.kind === c.fix);
      assert.ok(fix, `no ${c.fix} fix among ${fixes.map(f => f.kind).join(', ')}`);
      const fixed = applyEdits(text, fix.edits);
      assert.deepStrictEqual(lintOf(fixed).map(f => f.code), [], `still reported after the fix:\n${fixed}`);
      const after = await haproxyConfigTest(fixed);
      assert.ok(after.ok, `haproxy -c refused the fixed config:\n${fixed}\n${after.output.slice(-800)}`);
      const server = await startHaproxy(fixed);
      try {
        assert.deepStrictEqual(await admitted(server, pki), c.fix === 'ignore' ? OPEN : CLOSED, `${fixed}\n${server.errorLog().slice(-1500)}`);
      } finally {
        await server.stop();
      }
    });
  }

  it('one open crt-list line opens the whole frontend (Host is not tied to SNI); the fix on that line closes it', async () => {
    const list = path.join(pki.dir, 'crt-list.txt');
    fs.writeFileSync(list, `${bundle} [verify required ca-file ${pki.caCert}] localhost\n${bundle} other.test\n`);
    try {
      const text = materialize(`frontend fe\n\tmode http\n\tbind 127.0.0.1:__PORT__ ssl crt-list ${list}\n${RESPOND}\n`, pki, bundle);
      const findings = lintOf(text);
      assert.deepStrictEqual(findings.map(f => `${path.basename(f.file)}:${f.line} ${f.code}`), ['crt-list.txt:2 leg2-no-client-auth']);
      assert.ok((await haproxyConfigTest(text)).ok);
      let server = await startHaproxy(text);
      try {
        // the site itself requires a certificate...
        assert.deepStrictEqual(await admitted(server, pki), CLOSED);
        // ...but a client that says SNI other.test and Host localhost gets it without one
        const sneak = await curl(server.port, { hostname: 'other.test', insecure: true, headers: { Host: 'localhost' } });
        assert.strictEqual(sneak.status, 200, sneak.stderr);
      } finally {
        await server.stop();
      }
      const listText = fs.readFileSync(list, 'utf8');
      const fix = computeFixes(listText, findings[0], { cas: [ca] }).find(f => f.kind === 'require-client-cert');
      assert.ok(fix);
      const fixedList = applyEdits(listText, fix.edits);
      assert.strictEqual(fixedList.split('\n')[1], `${bundle} [ca-file ${pki.caCert} verify required] other.test`);
      fs.writeFileSync(list, fixedList);
      assert.deepStrictEqual(lintOf(text), []);
      assert.ok((await haproxyConfigTest(text)).ok);
      server = await startHaproxy(text);
      try {
        const sneak = await curl(server.port, { hostname: 'other.test', insecure: true, headers: { Host: 'localhost' } });
        assert.notStrictEqual(sneak.status, 200);
        assert.deepStrictEqual(await admitted(server, pki, { hostname: 'other.test', insecure: true, headers: { Host: 'localhost' } }), CLOSED);
      } finally {
        await server.stop();
      }
    } finally {
      fs.rmSync(list, { force: true });
    }
  });

  it('a plain listener is not flagged, and haproxy serves it without TLS', async () => {
    const text = `frontend plain\n\tmode http\n\tbind 127.0.0.1:__PORT__\n${RESPOND}\n`;
    assert.deepStrictEqual(lintOf(text), []);
    const server = await startHaproxy(text);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: server.port, path: '/' }, res => { let b = ''; res.on('data', d => (b += d)); res.on('end', () => resolve(b)); }).on('error', reject);
      });
      assert.match(body, /origin ok/);
    } finally {
      await server.stop();
    }
  });

  it('in mode tcp http-request rules do not apply, so verify optional stays unchecked', () => {
    const text = 'defaults\n\tmode tcp\nfrontend fe\n\tbind :443 ssl crt /etc/haproxy/site.pem ca-file /etc/haproxy/ca.pem verify optional\n\thttp-request deny unless { ssl_c_used }\n';
    assert.deepStrictEqual(lintText(text, { file: '/nonexistent/haproxy.cfg', settings: { checkCaFiles: false } }).map(f => f.code), ['leg2-optional-unchecked']);
    const withReject = text.replace('http-request deny unless { ssl_c_used }', 'tcp-request session reject unless { ssl_c_used }');
    assert.deepStrictEqual(lintText(withReject, { file: '/nonexistent/haproxy.cfg', settings: { checkCaFiles: false } }).map(f => f.code), []);
  });

  it('a configured server CA path (mtls.lint.serverCaPath.haproxy) is what the fix writes and what the linter knows is absent here', () => {
    const text = 'frontend fe\n\tbind :443 ssl crt /etc/haproxy/site.pem\n';
    const configured = '/srv/haproxy/origin-pull.pem';
    const f = lintText(text, { file: '/nonexistent/haproxy.cfg' })[0];
    const fixes = computeFixes(text, f, { cas: [{ path: serverCaPath('haproxy', configured), label: 'origin-pull CA', kind: 'origin-pull' }] });
    const fixed = applyEdits(text, fixes[0].edits);
    assert.strictEqual(fixed, `frontend fe\n\tbind :443 ssl crt /etc/haproxy/site.pem ca-file ${configured} verify required\n`);
    assert.deepStrictEqual(lintText(fixed, { file: '/nonexistent/haproxy.cfg', settings: { serverCaPath: configured } }).map(x => `${x.code} ${x.severity}`), ['leg2-ca-file information']);
    assert.deepStrictEqual(lintText(fixed, { file: '/nonexistent/haproxy.cfg' }).map(x => `${x.code} ${x.severity}`), ['leg2-ca-file error']);
  });

  it('the origin-pull CA fix writes the server-side path', () => {
    const text = 'frontend fe\n\tbind :443 ssl crt /etc/haproxy/site.pem\n';
    const f = lintText(text, { file: '/nonexistent/haproxy.cfg' })[0];
    const fixes = computeFixes(text, f, { cas: [{ path: serverCaPath('haproxy'), source: '/home/dev/ext/media/authenticated_origin_pull_ca.pem', label: 'origin-pull CA', kind: 'origin-pull' }] });
    const fixed = applyEdits(text, fixes[0].edits);
    assert.strictEqual(fixed, `frontend fe\n\tbind :443 ssl crt /etc/haproxy/site.pem ca-file ${HAPROXY_ORIGIN_PULL_CA} verify required\n`);
    assert.deepStrictEqual(lintText(fixed, { file: '/nonexistent/haproxy.cfg' }).map(x => `${x.code} ${x.severity} ${x.data?.caProblem}`), ['leg2-ca-file information missing']);
  });
});

describe('haproxy.cfg parser and detection', () => {
  it('reads sections, bind options with positions, quotes and comments', () => {
    const text = 'global\n\tca-base /etc/ssl/certs\n\nfrontend "web fe"  # public\n    bind :443 ssl crt site.pem ca-file "my ca.pem" verify required # leg 2\n';
    const pf = parseConfig(text, { file: '/etc/haproxy/haproxy.cfg' });
    assert.strictEqual(pf.dialect, 'haproxy');
    const [g, fe] = pf.directives as HaproxyDirective[];
    assert.ok(g.section && fe.section);
    assert.strictEqual(fe.args[0].value, 'web fe');
    const bind = fe.block![0] as HaproxyDirective;
    assert.deepStrictEqual(bind.args.map(a => a.value), [':443', 'ssl', 'crt', 'site.pem', 'ca-file', 'my ca.pem', 'verify', 'required']);
    assert.deepStrictEqual([bind.args[5].line, bind.args[5].column, bind.args[5].endColumn], [5, 40, 51]);
    assert.deepStrictEqual([fe.line, fe.endLine, bind.indent], [4, 5, '    ']);
    assert.deepStrictEqual(pf.comments.map(c => c.text.trim()), ['public', 'leg 2']);
  });

  it('reads crt-list lines: certificate, [options], SNI filters', () => {
    const pf = parseCrtList('# certificates\n/etc/haproxy/a.pem [verify required ca-file /etc/haproxy/ca.pem] a.example.com !b.example.com\n/etc/haproxy/c.pem\n', '/etc/haproxy/list.txt');
    const [a, c] = pf.directives as HaproxyDirective[];
    assert.deepStrictEqual(a.sslOptions!.map(o => o.value), ['verify', 'required', 'ca-file', '/etc/haproxy/ca.pem']);
    assert.deepStrictEqual(a.sniFilters!.map(o => o.value), ['a.example.com', '!b.example.com']);
    assert.deepStrictEqual([a.optionsOpen!.column, a.optionsClose!.column], [20, 64]);
    assert.deepStrictEqual([c.name, c.sslOptions!.length], ['/etc/haproxy/c.pem', 0]);
  });

  it('crt-list lines whose SNI names are all in ignoreServerNames are not judged', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-haproxy-'));
    try {
      fs.writeFileSync(path.join(dir, 'list.txt'), 'site.pem internal.example.com\nshop.pem shop.example.com\n');
      const text = `frontend fe\n\tbind :443 ssl crt-list ${path.join(dir, 'list.txt')}\n`;
      const findings = lintText(text, { file: path.join(dir, 'haproxy.cfg'), settings: { ignoreServerNames: ['*.internal.example.com', 'internal.example.com'] } });
      assert.deepStrictEqual(findings.map(f => `${path.basename(f.file)}:${f.line} ${f.code}`), ['list.txt:2 leg2-no-client-auth']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('detects haproxy.cfg by name, and other *.cfg files by their sections', () => {
    assert.strictEqual(detectDialect('/etc/haproxy/haproxy.cfg'), 'haproxy');
    assert.strictEqual(detectDialect('/srv/lb/edge.cfg', 'global\n\tlog stdout local0\nfrontend fe\n\tbind :443 ssl crt x.pem\n'), 'haproxy');
    assert.strictEqual(detectDialect('/srv/app/setup.cfg', '[metadata]\nname = x\n'), undefined);
  });

  it('a folder scan finds haproxy.cfg and the crt-list it names (relative to crt-base)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-haproxy-'));
    try {
      fs.writeFileSync(path.join(dir, 'haproxy.cfg'), `global\n\tcrt-base ${dir}\nfrontend fe\n\tmode http\n\tbind :443 ssl crt-list list.txt\n`);
      fs.writeFileSync(path.join(dir, 'list.txt'), 'site.pem [verify optional ca-file /nonexistent/ca.pem]\n');
      const findings = await lintFiles([dir]);
      assert.deepStrictEqual(findings.map(f => `${path.basename(f.file)}:${f.line}:${f.column} ${f.code}`), ['list.txt:1:18 leg2-optional-unchecked', 'list.txt:1:35 leg2-ca-file']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HAProxy snippets against the real haproxy', function () {
  this.timeout(60000);
  let pki: TestPki;
  let bundle: string;
  before(() => {
    pki = makeTestPki();
    bundle = path.join(pki.dir, 'server.bundle.pem');
    fs.writeFileSync(bundle, fs.readFileSync(pki.serverCert, 'utf8') + fs.readFileSync(pki.serverKey, 'utf8'));
  });
  after(() => pki?.remove());

  it('aop-frontend: no finding, passes haproxy -c and requires a client certificate from the CA', async () => {
    const text = snippetBody('haproxy.json', 'aop-frontend')
      .replace(':443', '127.0.0.1:__PORT__').replace('/etc/haproxy/certs/origin.pem', bundle)
      .replace('/etc/haproxy/cloudflare/origin-pull-ca.pem', pki.caCert).replace('\tdefault_backend app', RESPOND);
    assert.deepStrictEqual(lintText(text, { file: path.join(pki.dir, 'haproxy.cfg') }).map(f => f.code), []);
    assert.ok((await haproxyConfigTest(text)).ok, text);
    const server = await startHaproxy(text);
    try { assert.deepStrictEqual(await admitted(server, pki), CLOSED); } finally { await server.stop(); }
  });

  it('aop-deny: with verify optional and ignored certificate errors, refuses clients without a verified certificate', async () => {
    const rule = snippetBody('haproxy.json', 'aop-deny').trim();
    const text = materialize(frontend(' ca-file CA verify optional crt-ignore-err all', '\t' + rule), pki, bundle);
    assert.deepStrictEqual(lintText(text, { file: path.join(pki.dir, 'haproxy.cfg') }).map(f => f.code), []);
    const server = await startHaproxy(text);
    try { assert.deepStrictEqual(await admitted(server, pki), CLOSED); } finally { await server.stop(); }
  });
});

describe('Cloudflare guide origin block for HAProxy against the real haproxy', function () {
  this.timeout(60000);
  let pki: TestPki;
  let bundle: string;
  before(() => {
    pki = makeTestPki();
    bundle = path.join(pki.dir, 'server.bundle.pem');
    fs.writeFileSync(bundle, fs.readFileSync(pki.serverCert, 'utf8') + fs.readFileSync(pki.serverKey, 'utf8'));
  });
  after(() => pki?.remove());

  it('has no finding, passes haproxy -c and requires a client certificate from the CA', async () => {
    const block = originConfigSnippet('haproxy', { caPath: pki.caCert, hostname: 'localhost', certPath: bundle });
    assert.deepStrictEqual(lintText(block, { file: path.join(pki.dir, 'haproxy.cfg') }).map(f => f.code), []);
    const text = block.replace('bind :443', 'bind 127.0.0.1:__PORT__') + RESPOND + '\n';
    assert.ok((await haproxyConfigTest(text)).ok, text);
    const server = await startHaproxy(text);
    try { assert.deepStrictEqual(await admitted(server, pki), CLOSED); } finally { await server.stop(); }
  });
});
