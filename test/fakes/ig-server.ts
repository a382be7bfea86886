/** The fake IG venue moved to test/fakes/ig/ (state, routes, server); this path keeps the old imports working. */
export * from './ig';
