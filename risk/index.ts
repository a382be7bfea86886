export * from './trading-state';
export * from './limits';
export * from './locks';
export * from './pre-trade';
export * from './protections';
export * from './numbers';
export * from './default-limits';
