// The Getting Started walkthrough (contributes.walkthroughs in package.json) checks a step off when a context
// key it waits for (`completionEvents: onContext:<key>`) becomes true. The features set these keys here when
// the real thing happened: a CA exists, a client certificate exists, a .p12 was written, a lint ran, a Test
// Leg run passed, Cloudflare reports a leg as set up.
import * as net from 'net';
import * as vscode from 'vscode';
import type { ProbeReport } from '../core/probe/types';

export const WALKTHROUGH_KEYS = [
  'mtls.hasCa',
  'mtls.hasClientCert',
  'mtls.exportedP12',
  'mtls.lintRan',
  'mtls.testLegPassed',
  'mtls.cloudflareLeg1Done',
  'mtls.cloudflareLeg2Done',
  'mtls.verified',
] as const;

export type WalkthroughKey = typeof WALKTHROUGH_KEYS[number];

const marked = new Set<WalkthroughKey>();

/** Marks a walkthrough step's event as happened (a context key, true for the rest of the session). */
export function markWalkthroughStep(key: WalkthroughKey): void {
  if (marked.has(key)) return;
  marked.add(key);
  void vscode.commands.executeCommand('setContext', key, true);
}

/** Which walkthrough events have happened in this session (for tests). */
export function walkthroughSteps(): WalkthroughKey[] {
  return [...marked];
}

/** The store's content: a CA, a client certificate. */
export function noteStoreContent(content: { hasCa: boolean; hasClientCert: boolean }): void {
  if (content.hasCa) markWalkthroughStep('mtls.hasCa');
  if (content.hasClientCert) markWalkthroughStep('mtls.hasClientCert');
}

function isLoopbackTarget(target: string): boolean {
  const host = target.replace(/^\[/, '').replace(/\](:\d+)?$/, '').replace(/:\d+$/, '');
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

/**
 * A Test Leg run: a passing leg against loopback (the local edge, a local origin) is the rehearsal; a passing
 * Leg 1 through a real edge (Cloudflare) is the end-to-end verification.
 */
export function noteTestLegReport(report: ProbeReport): void {
  for (const leg of report.legs) {
    if (!leg.ok) continue;
    if (isLoopbackTarget(leg.target)) markWalkthroughStep('mtls.testLegPassed');
    else if (leg.leg === 'leg1') markWalkthroughStep('mtls.verified');
  }
}

/** The Cloudflare setup guide's reading of both legs. */
export function noteCloudflareLegs(legs: { leg1: string; leg2: string } | undefined): void {
  if (legs?.leg1 === 'done') markWalkthroughStep('mtls.cloudflareLeg1Done');
  if (legs?.leg2 === 'done') markWalkthroughStep('mtls.cloudflareLeg2Done');
}
