import { Shared } from '../context';

// Placeholder until the feature lands.
export function registerGuide(_shared: Shared): void {
  // nothing yet
}
