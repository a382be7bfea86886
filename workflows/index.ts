// The workflow bundle's entry point: only workflow functions are exported from here.
export { accountSession } from './account-session';
export { marketDataFeeder } from './market-data-feeder';
