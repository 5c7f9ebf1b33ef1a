// Test Leg in the real extension host: a real nginx origin and the local edge (started by the extension's
// own command) on loopback, settings as a person sets them, then `mtls.testLeg` with arguments as the
// setup guide calls it. The Test Explorer's items and outcomes, the failure messages (explanation and
// fix), the offered fix actions and the report in the log are checked.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExplorerRow, TestLegApi, TestLegResult } from '../../../src/extension/testLeg';
import type { EdgeState } from '../../../src/extension/testLeg/localEdge';
import { startNginx, RunningServer } from '../../support/servers';
import { HOST, makeProbePki, ProbePki } from '../../unit/probe/helpers';

import { EXTENSION_ID } from './support';

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function row(rows: ExplorerRow[], id: string): ExplorerRow {
  for (const r of rows) {
    if (r.id === id) return r;
    const inner = r.children && (() => { try { return row(r.children!, id); } catch { return undefined; } })();
    if (inner) return inner;
  }
  throw new Error(`no Test Explorer item ${id}`);
}

describe('Test Leg: probes in the Test Explorer, local edge, log', function () {
  this.timeout(120000);
  let api: TestLegApi;
  let p: ProbePki;
  let aop: RunningServer;
  let open: RunningServer;
  let edge: EdgeState;
  const cfg = () => vscode.workspace.getConfiguration('mtls');
  const keys = ['hostname', 'originAddress', 'clientCertificate', 'clientKey', 'originPullCertificate', 'originPullKey', 'trustedOriginCa', 'probe.timeoutMs'];

  before(async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    api = (await ext.activate()).testLeg;
    assert.ok(api, 'activate() returns { testLeg }');
    p = makeProbePki();
    const site = (verify: string) => `server { listen 127.0.0.1:__PORT__ ssl; server_name ${HOST}; ssl_protocols TLSv1.2 TLSv1.3;
      ssl_certificate ${p.serverCert}; ssl_certificate_key ${p.serverKey}; ${verify}
      location / { return 200 "origin page\\ncf-cert-verified: $http_cf_cert_verified\\ncf-cert-subject-dn: $http_cf_cert_subject_dn\\n"; } }`;
    aop = await startNginx(site(`ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on;`));
    open = await startNginx(site(''));
    const settings: Record<string, unknown> = {
      hostname: HOST, originAddress: `127.0.0.1:${aop.port}`, clientCertificate: p.clientCert, clientKey: p.clientKey,
      originPullCertificate: p.pull.cert, originPullKey: p.pull.key, trustedOriginCa: p.caCert, 'probe.timeoutMs': 5000,
    };
    for (const [k, v] of Object.entries(settings)) await cfg().update(k, v, vscode.ConfigurationTarget.Workspace);
  });

  after(async () => {
    await vscode.commands.executeCommand('mtls.stopLocalEdge');
    for (const k of keys) await cfg().update(k, undefined, vscode.ConfigurationTarget.Workspace);
    await aop?.stop();
    await open?.stop();
    p?.remove();
  });

  it('declares its commands, settings and menus', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes;
    const commands = Object.fromEntries(pkg.commands.map((c: { command: string; title: string }) => [c.command, c.title]));
    assert.strictEqual(commands['mtls.testLeg'], 'Test Leg...');
    assert.strictEqual(commands['mtls.startLocalEdge'], 'Start Local Edge');
    assert.strictEqual(commands['mtls.stopLocalEdge'], 'Stop Local Edge');
    for (const k of [...keys, 'edgeAddress']) assert.ok(pkg.configuration.properties[`mtls.${k}`], `setting mtls.${k}`);
    assert.ok(pkg.menus['view/title'].some((m: { command: string; when: string }) => m.command === 'mtls.testLeg' && m.when.includes('mtls.certificates')));
    assert.ok(pkg.menus['view/item/context'].some((m: { command: string }) => m.command === 'mtls.testLeg'));
  });

  it('the Test Explorer has the two legs with their checks before any run', () => {
    const rows = api.explorerRows();
    assert.deepStrictEqual(rows.map(r => r.id), ['leg1', 'leg2']);
    assert.deepStrictEqual(rows[0].children!.map(c => c.id), ['edge-requests-client-cert', 'edge-blocks-without-cert', 'edge-allows-with-cert', 'edge-rejects-foreign-cert']);
    assert.deepStrictEqual(rows[1].children!.map(c => c.id), ['origin-requires-client-cert', 'origin-rejects-foreign-cert', 'origin-accepts-pull-cert', 'origin-cert-valid', 'origin-requested-cas']);
    assert.strictEqual(api.controller.id, 'mtls');
    assert.strictEqual(api.controller.label, 'mTLS Legs');
  });

  it('Start Local Edge runs the edge in the extension host; both legs pass through it', async () => {
    edge = (await vscode.commands.executeCommand<EdgeState>('mtls.startLocalEdge', {
      listen: '127.0.0.1:0', origin: `127.0.0.1:${aop.port}`, hostname: HOST, caFile: p.caCert,
      pullCert: p.pull.cert, pullKey: p.pull.key, originCa: p.caCert,
    }))!;
    assert.match(edge.address, /^127\.0\.0\.1:\d+$/);
    const result = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'both' }))!;
    assert.strictEqual(result.ok, true, JSON.stringify(result.legs, null, 1));
    assert.deepStrictEqual(result.legs.map(l => [l.leg, l.ok]), [['leg1', true], ['leg2', true]]);
    assert.strictEqual(result.legs[0].target, edge.address, 'Leg 1 went to the running local edge');
    const steps: string[] = (await vscode.extensions.getExtension(EXTENSION_ID)!.activate()).walkthroughSteps();
    assert.ok(steps.includes('mtls.testLegPassed') && !steps.includes('mtls.verified'), `the walkthrough's rehearsal step, not its verification, is checked off: ${steps}`);
    const rows = result.explorer;
    for (const leg of rows) {
      assert.strictEqual(leg.outcome, 'passed', `${leg.id}: ${leg.message}`);
      for (const c of leg.children!) assert.strictEqual(c.outcome, 'passed', `${c.id}: ${c.message}`);
    }
    assert.match(row(rows, 'leg1').description!, new RegExp(`${HOST.replace(/\./g, '\\.')} via ${edge.address}`));
    assert.match(row(rows, 'edge-allows-with-cert').message!, /cf-cert-verified: true/);
    assert.deepStrictEqual(result.actions, []);
  });

  it('a failing Leg 2 (origin without client verification): failed items with explanation and fix, fix actions offered', async () => {
    const result = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'leg2', originAddress: `127.0.0.1:${open.port}` }))!;
    assert.strictEqual(result.ok, false);
    assert.deepStrictEqual(result.legs.map(l => l.leg), ['leg2']);
    const leg2 = row(result.explorer, 'leg2');
    assert.strictEqual(leg2.outcome, 'failed');
    const requires = row(result.explorer, 'origin-requires-client-cert');
    assert.strictEqual(requires.outcome, 'failed');
    assert.match(requires.message!, /Why: Leg 2 is open/);
    assert.match(requires.message!, /Fix: .*ssl_verify_client on/);
    assert.ok(typeof requires.durationMs === 'number');
    assert.strictEqual(row(result.explorer, 'origin-rejects-foreign-cert').outcome, 'failed');
    assert.strictEqual(row(result.explorer, 'origin-requested-cas').outcome, 'failed');
    assert.strictEqual(row(result.explorer, 'origin-accepts-pull-cert').outcome, 'passed');
    assert.ok(result.actions.includes('Open Origin Config'), result.actions.join(', '));
  });

  it('without the WAF rule at the local edge, edge-blocks-without-cert fails; a check with no input is skipped', async () => {
    await vscode.commands.executeCommand('mtls.startLocalEdge', {
      listen: '127.0.0.1:0', origin: `127.0.0.1:${aop.port}`, hostname: HOST, caFile: p.caCert, pullCert: p.pull.cert, pullKey: p.pull.key, originCa: p.caCert, wafRule: false,
    });
    const result = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'leg1', clientCertificate: '', interactive: false }))!;
    const blocks = row(result.explorer, 'edge-blocks-without-cert');
    assert.strictEqual(blocks.outcome, 'failed');
    assert.match(blocks.message!, /enforcing WAF rule/);
    assert.strictEqual(row(result.explorer, 'edge-allows-with-cert').outcome, 'skipped');
    assert.ok(result.actions.includes('Open Setup Guide'), result.actions.join(', '));
    assert.strictEqual(await vscode.commands.executeCommand('mtls.stopLocalEdge'), true);
    assert.strictEqual(await vscode.commands.executeCommand('mtls.stopLocalEdge'), false, 'nothing left to stop');
  });

  it('from the Certificates view\'s context menu: a client certificate runs Leg 1 with it, a CA starts the edge with it', async () => {
    // The tree passes its node; only kind, entry.certPath/keyPath and info.profile are read.
    const caNode = { kind: 'ca', entry: { certPath: p.caCert } };
    await cfg().update('edgeAddress', '127.0.0.1:0', vscode.ConfigurationTarget.Workspace);
    const started = await vscode.commands.executeCommand<EdgeState>('mtls.startLocalEdge', caNode);
    try {
      assert.ok(started, 'the edge started from the CA node');
      assert.strictEqual(started!.hostname, HOST);
      const certNode = { kind: 'cert', entry: { certPath: p.foreign.cert, keyPath: p.foreign.key, info: { profile: 'client' } } };
      const result = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', certNode))!;
      assert.deepStrictEqual(result.legs.map(l => l.leg), ['leg1']);
      // A certificate from another CA than the edge's: blocked, and said so.
      const allows = result.legs[0].checks.find(c => c.id === 'edge-allows-with-cert')!;
      assert.strictEqual(allows.status, 'fail');
      assert.match(allows.detail, /Blocked even with the client certificate "CN=mtls-probe-foreign-client"/);
      assert.ok(result.actions.includes('Issue Client Certificate'), result.actions.join(', '));
    } finally {
      await vscode.commands.executeCommand('mtls.stopLocalEdge');
      await cfg().update('edgeAddress', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('the readable report is in the log', async () => {
    const logsRoot = path.dirname(path.dirname(api.logUri.fsPath));
    let text = '';
    for (let i = 0; i < 30 && !/origin-requires-client-cert/.test(text); i++) {
      await new Promise(r => setTimeout(r, 300));
      text = walk(logsRoot).map(f => fs.readFileSync(f, 'utf8')).filter(t => t.includes('Test Leg: ')).join('\n');
    }
    assert.match(text, /Test Leg: mtls\.example\.test \(both legs\)/);
    assert.match(text, /✔ Leg 1: client (?:->|→) Cloudflare: mtls\.example\.test via 127\.0\.0\.1:\d+/);
    assert.match(text, /✖ origin-requires-client-cert \([\d.]+ ms\): Without a certificate the origin served the page/);
    assert.match(text, /why: Leg 2 is open/);
    assert.match(text, /local edge: listening on https:\/\/127\.0\.0\.1:\d+/);
    assert.match(text, /local edge: 403 GET mtls\.example\.test\/ cert=none blocked/);
  });

  it('the Test Explorer\'s own Run (testing.runAll) runs the probes through the run profile', async () => {
    // Leg 1 goes to a closed loopback port (no DNS, nothing off the machine); Leg 2 to the AOP origin of the settings.
    await cfg().update('edgeAddress', '127.0.0.1:1', vscode.ConfigurationTarget.Workspace);
    try {
      const before = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'leg2', originAddress: `127.0.0.1:${open.port}` }))!;
      assert.strictEqual(row(before.explorer, 'origin-requires-client-cert').outcome, 'failed');
      await vscode.commands.executeCommand('testing.runAll');
      let rows = api.explorerRows();
      for (let i = 0; i < 150 && row(rows, 'origin-requires-client-cert').outcome !== 'passed'; i++) {
        await new Promise(r => setTimeout(r, 200));
        rows = api.explorerRows();
      }
      assert.strictEqual(row(rows, 'origin-requires-client-cert').outcome, 'passed', JSON.stringify(rows, null, 1));
      assert.strictEqual(row(rows, 'leg2').outcome, 'passed');
      assert.strictEqual(row(rows, 'leg1').outcome, 'failed', 'Leg 1 ran too, against the closed port');
    } finally {
      await cfg().update('edgeAddress', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('errors are reported, not swallowed: no origin address for Leg 2 without a person to ask', async () => {
    await cfg().update('originAddress', undefined, vscode.ConfigurationTarget.Workspace);
    try {
      await assert.rejects(
        Promise.resolve(vscode.commands.executeCommand('mtls.testLeg', { legs: 'leg2', interactive: false })),
        /No origin address for Leg 2/,
      );
    } finally {
      await cfg().update('originAddress', `127.0.0.1:${aop.port}`, vscode.ConfigurationTarget.Workspace);
    }
  });

  describe('asks instead of skipping', () => {
    type Pick = vscode.QuickPickItem & Record<string, unknown>;
    const asked: string[] = [];
    let original: TestLegApi['asker'];
    /** Answers the quick picks in order by label (a substring), the file dialogs with `files`, input boxes with `inputs`. */
    function answer(picks: string[], files: string[] = [], inputs: string[] = []): void {
      api.asker.pick = (async (items: Pick[], options: vscode.QuickPickOptions) => {
        asked.push(`pick: ${options.title} | ${items.map(i => i.label).join(' / ')}`);
        const want = picks.shift();
        if (want === undefined) throw new Error(`unexpected question: ${options.title}`);
        const item = items.find(i => i.label.includes(want));
        if (!item) throw new Error(`no "${want}" among ${items.map(i => i.label).join(', ')}`);
        return item;
      }) as TestLegApi['asker']['pick'];
      api.asker.openFile = async options => {
        asked.push(`file: ${options.title}`);
        const f = files.shift();
        return f ? [vscode.Uri.file(f)] : undefined;
      };
      api.asker.input = async options => {
        asked.push(`input: ${options.title} | ${options.prompt}`);
        return inputs.shift();
      };
    }
    before(() => { original = { ...api.asker }; });
    beforeEach(() => { asked.length = 0; });
    afterEach(() => { Object.assign(api.asker, original); });

    it('a missing client certificate is asked for (a file), used, and remembered in the workspace settings', async () => {
      const started = await vscode.commands.executeCommand<EdgeState>('mtls.startLocalEdge', {
        listen: '127.0.0.1:0', origin: `127.0.0.1:${aop.port}`, hostname: HOST, caFile: p.caCert, pullCert: p.pull.cert, pullKey: p.pull.key, originCa: p.caCert,
      });
      await cfg().update('clientCertificate', undefined, vscode.ConfigurationTarget.Workspace);
      await cfg().update('clientKey', undefined, vscode.ConfigurationTarget.Workspace);
      try {
        answer(['Choose a file', 'Remember in the workspace settings'], [p.clientCert]);
        const result = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'leg1' }))!;
        assert.match(asked[0], /Test Leg needs the client certificate \(mtls\.clientCertificate is not set\)/, asked.join('\n'));
        assert.match(asked[0], /Skip/);
        assert.strictEqual(row(result.explorer, 'edge-allows-with-cert').outcome, 'passed', JSON.stringify(result.legs, null, 1));
        assert.strictEqual(result.legs[0].target, started!.address);
        const saved = cfg().inspect<string>('clientCertificate');
        assert.strictEqual(saved?.workspaceValue, p.clientCert);
        assert.strictEqual(cfg().inspect<string>('clientKey')?.workspaceValue, p.clientKey, 'the key beside the certificate');
        // Remembered: the next run asks nothing.
        asked.length = 0;
        answer([]);
        const again = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'leg1' }))!;
        assert.strictEqual(row(again.explorer, 'edge-allows-with-cert').outcome, 'passed');
        assert.deepStrictEqual(asked, [], 'nothing asked once remembered');
      } finally {
        await vscode.commands.executeCommand('mtls.stopLocalEdge');
        await cfg().update('clientCertificate', p.clientCert, vscode.ConfigurationTarget.Workspace);
        await cfg().update('clientKey', p.clientKey, vscode.ConfigurationTarget.Workspace);
      }
    });

    it('a missing origin-pull certificate and trusted origin CA are asked for; Skip skips, "only this run" is not saved', async () => {
      await cfg().update('originPullCertificate', undefined, vscode.ConfigurationTarget.Workspace);
      await cfg().update('originPullKey', undefined, vscode.ConfigurationTarget.Workspace);
      await cfg().update('trustedOriginCa', undefined, vscode.ConfigurationTarget.Workspace);
      try {
        answer(['Skip', 'Choose a file', 'Only for this run'], [p.caCert]);
        const result = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'leg2' }))!;
        assert.match(asked.join('\n'), /needs the origin-pull certificate \(mtls\.originPullCertificate is not set\)/);
        assert.match(asked.join('\n'), /needs the trusted origin CA \(mtls\.trustedOriginCa is not set\)[^\n]*Public CA only/);
        assert.strictEqual(row(result.explorer, 'origin-accepts-pull-cert').outcome, 'skipped');
        assert.strictEqual(row(result.explorer, 'origin-cert-valid').outcome, 'passed', 'the chosen CA was used for this run');
        assert.strictEqual(cfg().inspect<string>('trustedOriginCa')?.workspaceValue, undefined, 'not remembered');
        // A pull certificate from the file, this time.
        answer(['Choose a file', 'Only for this run', 'Choose a file', 'Only for this run'], [p.pull.cert, p.caCert]);
        const withPull = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'leg2' }))!;
        assert.strictEqual(row(withPull.explorer, 'origin-accepts-pull-cert').outcome, 'passed', asked.join('\n'));
      } finally {
        await cfg().update('originPullCertificate', p.pull.cert, vscode.ConfigurationTarget.Workspace);
        await cfg().update('originPullKey', p.pull.key, vscode.ConfigurationTarget.Workspace);
        await cfg().update('trustedOriginCa', p.caCert, vscode.ConfigurationTarget.Workspace);
      }
    });

    it('an encrypted key\'s passphrase is asked for, naming the key file and saying it is encrypted', async () => {
      const encrypted = path.join(p.dir, 'pull-encrypted.key');
      require('child_process').execFileSync('openssl', ['pkey', '-in', p.pull.key, '-aes256', '-passout', 'pass:pull-pass', '-out', encrypted]);
      answer([], [], ['pull-pass']);
      const result = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'leg2', originPullKey: encrypted }))!;
      assert.match(asked.join('\n'), /input: mTLS: passphrase of pull-encrypted\.key \| The private key pull-encrypted\.key of the origin-pull certificate is encrypted/);
      assert.strictEqual(row(result.explorer, 'origin-accepts-pull-cert').outcome, 'passed');
      // Not interactive and no passphrase stored for another file: a clear error naming the file.
      const other = path.join(p.dir, 'pull-encrypted-2.key');
      require('child_process').execFileSync('openssl', ['pkey', '-in', p.pull.key, '-aes256', '-passout', 'pass:pull-pass', '-out', other]);
      await assert.rejects(Promise.resolve(vscode.commands.executeCommand('mtls.testLeg', { legs: 'leg2', originPullKey: other, interactive: false })),
        /The private key pull-encrypted-2\.key of the origin-pull certificate is encrypted/);
      // The failure is in the extension's log once, not once per layer it went through.
      const failure = /The private key pull-encrypted-2\.key of the origin-pull certificate is encrypted/;
      const logged = () => walk(api.logUri.fsPath).flatMap(f => fs.readFileSync(f, 'utf8').split('\n')).filter(l => failure.test(l));
      for (let i = 0; i < 30 && !logged().length; i++) await new Promise(r => setTimeout(r, 300));
      await new Promise(r => setTimeout(r, 1000)); // a second copy would be flushed by now
      assert.strictEqual(logged().length, 1, logged().join('\n'));
    });

    it('"Open Settings" is filtered to the setting a failure names', async () => {
      const result = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'leg2', originAddress: '127.0.0.1:1' }))!;
      assert.ok(result.actions.includes('Open Settings'), result.actions.join(', '));
      assert.strictEqual(api.settingsQueryFor(result), 'mtls.originAddress');
    });
  });

  describe('the local edge and settings', () => {
    it('a running edge that reads a changed setting says it is stale; Restart Local Edge picks up the change', async () => {
      await cfg().update('edgeAddress', '127.0.0.1:0', vscode.ConfigurationTarget.Workspace);
      const started = await vscode.commands.executeCommand<EdgeState>('mtls.startLocalEdge', { origin: `127.0.0.1:${aop.port}`, hostname: HOST, caFile: p.caCert });
      try {
        assert.deepStrictEqual(started!.staleSettings, []);
        await cfg().update('trustedOriginCa', p.otherCaCert, vscode.ConfigurationTarget.Workspace);
        let state = api.edge.state!;
        for (let i = 0; i < 50 && !state.staleSettings.length; i++) { await new Promise(r => setTimeout(r, 100)); state = api.edge.state!; }
        assert.deepStrictEqual(state.staleSettings, ['mtls.trustedOriginCa']);
        // Its 526 (the origin's CA is no longer trusted after a restart) names the setting; before the restart it still works.
        const before = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'leg1', interactive: false }))!;
        assert.strictEqual(row(before.explorer, 'edge-allows-with-cert').outcome, 'passed', 'still the old trusted origin CA');
        const restarted = await vscode.commands.executeCommand<EdgeState>('mtls.restartLocalEdge');
        assert.deepStrictEqual(restarted!.staleSettings, []);
        const after = (await vscode.commands.executeCommand<TestLegResult>('mtls.testLeg', { legs: 'leg1', interactive: false }))!;
        const allows = after.legs[0].checks.find(c => c.id === 'edge-allows-with-cert')!;
        assert.strictEqual(allows.status, 'fail');
        assert.match(allows.detail, /526/);
        assert.match(allows.explanation!, /mtls\.trustedOriginCa/);
      } finally {
        await vscode.commands.executeCommand('mtls.stopLocalEdge');
        await cfg().update('trustedOriginCa', p.caCert, vscode.ConfigurationTarget.Workspace);
        await cfg().update('edgeAddress', undefined, vscode.ConfigurationTarget.Workspace);
      }
    });

    it('the settings naming files or addresses used by the edge and the probes are restricted in untrusted workspaces', () => {
      const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON;
      const restricted: string[] = pkg.capabilities.untrustedWorkspaces.restrictedConfigurations;
      for (const k of ['hostname', 'originAddress', 'edgeAddress', 'clientCertificate', 'clientKey', 'originPullCertificate', 'originPullKey', 'trustedOriginCa', 'storePath']) {
        assert.ok(restricted.includes(`mtls.${k}`), `mtls.${k} is restricted`);
      }
      assert.strictEqual(pkg.contributes.commands.find((c: { command: string }) => c.command === 'mtls.restartLocalEdge')?.enablement, 'isWorkspaceTrusted');
    });
  });
});
