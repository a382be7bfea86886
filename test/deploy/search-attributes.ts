import { SA_ACCOUNT, SA_BROKER, SA_STATUS, SA_TRADING_STATE } from '../../workflows/definitions';

/** Every search attribute the sessions use (workflows/definitions.ts): each deployment shape must register them all. */
export const SEARCH_ATTRIBUTE_NAMES = [SA_ACCOUNT, SA_BROKER, SA_STATUS, SA_TRADING_STATE].map((k) => k.name);
