export { runBacktest, BacktestInputError } from './engine';
export { computeStats, periodsPerYearOf, YEAR_MS, type StatsInput } from './stats';
export { parseCandlesCsv, CandleCsvReader, CandleCsvError, parseIsoTime, parseTime, type CsvParseOptions, type CsvParseResult, type CsvRowError } from './csv';
export { chartPoints, equityChartSpec, renderEquitySvg, reportHtml, writeEquityReport, DEFAULT_MAX_POINTS, type ChartPoint } from './chart';
export { minMaxIndices, downsampleMinMax } from './downsample';
export { equityPoints, equityCurveOf } from './equity-curve';
export { statsRows } from './report';
export type * from './types';
