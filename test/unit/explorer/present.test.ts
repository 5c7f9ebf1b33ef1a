import * as assert from 'assert';
import type { CertificateInfo } from '../../../src/core/pki';
import { daysLeftText, expiryStatus, statusText } from '../../../src/extension/explorer/present';

const DAY = 86_400_000;
const BACKDATE = 5 * 60_000;

/** What the store reports for a certificate issued `ageMs` ago for `days` days (start backdated, as the PKI does). */
function issued(days: number, ageMs = 2_000): CertificateInfo {
  const now = Date.now();
  const issuedAt = now - ageMs;
  const notAfter = new Date(issuedAt + days * DAY);
  return {
    notBefore: new Date(issuedAt - BACKDATE), notAfter,
    daysLeft: Math.floor((notAfter.getTime() - now) / DAY), expired: now > notAfter.getTime(), notYetValid: false,
  } as CertificateInfo;
}

describe('explorer day counts', () => {
  it('a certificate issued for 365 days shows 365 days in the tree, tooltip and inspect page', () => {
    const info = issued(365);
    assert.strictEqual(daysLeftText(info, 30), '365 days');
    assert.strictEqual(statusText(info, 30), 'valid, 365 days left');
  });

  it('a 10-day certificate expires in 10 days and is coloured as expiring soon', () => {
    const info = issued(10);
    assert.strictEqual(daysLeftText(info, 30), 'expires in 10 days');
    assert.strictEqual(expiryStatus(info, 30), 'soon');
  });

  it('a day later a 365-day certificate shows 364 days; hours before the end it expires today', () => {
    assert.strictEqual(daysLeftText(issued(365, DAY), 30), '364 days');
    assert.strictEqual(daysLeftText(issued(1, DAY - 3 * 3600_000), 30), 'expires today');
  });

  it('an expired certificate says how long ago', () => {
    assert.strictEqual(daysLeftText(issued(1, 3 * DAY), 30), 'expired 2 days ago');
    assert.strictEqual(expiryStatus(issued(1, 3 * DAY), 30), 'expired');
  });
});
