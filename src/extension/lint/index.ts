import { Shared } from '../context';

// Placeholder until the feature lands.
export function registerLint(_shared: Shared): void {
  // nothing yet
}
