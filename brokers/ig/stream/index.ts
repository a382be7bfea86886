/** IG streaming (issue 15): Lightstreamer CHART / TRADE / ACCOUNT items mapped onto Frame, OrderReport and positions. */
export { IgStreamTransport, type IgStreamCredentials, type IgStreamOptions } from './client';
export { fetchIgStreamCredentials } from './login';
export {
  ACCOUNT_FIELDS,
  accountItem,
  accountToEvent,
  CHART_FIELDS,
  chartItem,
  chartToFrameEvent,
  confirmToEvent,
  IG_CHART_SCALE,
  positionUpdateToEvent,
  TRADE_FIELDS,
  tradeItem,
  tradeToEvents,
  workingOrderUpdateToEvent,
  type IgFields,
} from './mapping';
