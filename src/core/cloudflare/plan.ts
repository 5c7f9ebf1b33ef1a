import { ApplyOptions, ApplyReport, CloudflareOptions, IpRanges, PlannedCall, SetupStatus, StepId } from './types';
import { MtlsError } from '../errors';

/** Reads the live state of every step. Never writes. */
export async function readStatus(opts: CloudflareOptions): Promise<SetupStatus> {
  void opts;
  throw new MtlsError('not-implemented', 'readStatus: work in progress');
}

/** The writes each step still needs, from a status read by readStatus. */
export function planSteps(status: SetupStatus, opts: CloudflareOptions): Record<StepId, PlannedCall[]> {
  void opts;
  const out = {} as Record<StepId, PlannedCall[]>;
  for (const s of status.steps) out[s.id] = s.plannedCalls;
  return out;
}

/** Performs what is missing, step by step; stops at the first failure. */
export async function applySteps(opts: CloudflareOptions, apply: ApplyOptions = {}): Promise<ApplyReport> {
  void opts; void apply;
  throw new MtlsError('not-implemented', 'applySteps: work in progress');
}

/** Cloudflare's IP ranges (GET /ips). */
export async function fetchIpRanges(opts: { token?: string; baseURL?: string }): Promise<IpRanges> {
  void opts;
  throw new MtlsError('not-implemented', 'fetchIpRanges: work in progress');
}
