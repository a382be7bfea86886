export { PaperBrokerAdapter } from './paper-adapter';
export { PaperConfigSchema, type PaperConfig } from './config';
export { marketFillPrice, stopFillPrice } from './fill-model';
