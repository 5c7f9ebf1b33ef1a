// The readable report: what the CLI prints and the extension writes to its log.
import { CheckResult, ProbeReport } from './types';

const MARK: Record<CheckResult['status'], string> = { pass: '✔', fail: '✖', warn: '⚠', skip: '–' };

export function formatCheck(c: CheckResult): string[] {
  const lines = [`  ${MARK[c.status]} ${c.id} (${c.ms} ms): ${c.detail}`];
  if (c.status === 'fail' || c.status === 'warn') {
    if (c.explanation) lines.push(`      why: ${c.explanation}`);
    if (c.fix) lines.push(`      fix: ${c.fix}`);
  }
  return lines;
}

export function formatReport(report: ProbeReport): string {
  const lines: string[] = [];
  for (const leg of report.legs) {
    const counts = (['pass', 'fail', 'warn', 'skip'] as const).map(s => [s, leg.checks.filter(c => c.status === s).length] as const).filter(([, n]) => n > 0);
    lines.push(`${leg.ok ? '✔' : '✖'} ${leg.title}: ${leg.hostname} via ${leg.target} (${leg.ms} ms; ${counts.map(([s, n]) => `${n} ${s}`).join(', ')})`);
    for (const c of leg.checks) lines.push(...formatCheck(c));
  }
  lines.push(report.ok ? `All required checks passed (${report.ms} ms).` : `Some checks failed (${report.ms} ms).`);
  return lines.join('\n') + '\n';
}
