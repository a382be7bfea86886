/** Alpaca streams (issue 15): trade_updates and market-data bars over WebSocket, mapped onto OrderReport and Frame. */
export { AlpacaTradeUpdatesTransport } from './trade-updates';
export { AlpacaBarsTransport, refusal as alpacaDataRefusal } from './bars';
export { dataStreamUrl, tradingStreamUrl, type AlpacaStreamOptions } from './options';
export { barToFrameEvent, parseDataStreamMessages, parseTradingStreamMessage, tradeUpdateToEvent, TRADE_UPDATE_EVENTS } from './mapping';
