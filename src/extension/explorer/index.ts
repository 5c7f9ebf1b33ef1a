import { Shared } from '../context';

// Placeholder until the feature lands.
export function registerExplorer(_shared: Shared): void {
  // nothing yet
}
