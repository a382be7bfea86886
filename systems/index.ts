export * from './types';
export { getSystem, listSystems, validateParams, UnknownSystemError, InvalidSystemParamsError } from './registry';
export type { ParamIssue, SystemInfo } from './registry';
export { maCrossover, MaCrossoverParamsSchema, windowLength } from './ma-crossover';
export type { MaCrossoverParams, MaCrossoverState, MaRelation } from './ma-crossover';
export { channelBreakout, ChannelBreakoutParamsSchema } from './channel-breakout';
export type { ChannelBreakoutParams, ChannelBreakoutState } from './channel-breakout';
export { scripted, ScriptedParamsSchema } from './scripted';
export type { ScriptedParams, ScriptedState } from './scripted';
