/** The fake Alpaca venue moved to test/fakes/alpaca/ (state, routes, server); this path keeps the old imports working. */
export * from './alpaca';
