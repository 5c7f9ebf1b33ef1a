import { Shared } from '../context';

// Placeholder until the feature lands.
export function registerTestLeg(_shared: Shared): void {
  // nothing yet
}
