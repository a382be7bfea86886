export { PaperBrokerAdapter } from './adapter';
export { PaperConfigSchema, type PaperConfig } from './config';
export { marketFillPrice, stopFillPrice } from './fill-model';
export { paperInstrument, PAPER_NO_PRICE_STATUS } from './instruments';
export { PaperLedger } from './ledger';
export { PaperExecution } from './execution';
