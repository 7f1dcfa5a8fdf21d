/**
 * Evaluation runs (issue 9): items from tests, datasets or the paper's records;
 * scoring (ROUGE-L ×100, exact match, expectations, contracts); the resumable
 * store; reports with bootstrap intervals and paired comparisons.
 */
export * from './types';
export { rougeL, rougeLTokens, rougeTokenize, lcsLength, type RougeScore, type RougeOptions } from '../metrics/rouge';
export { bootstrapMean, pairedBootstrap, winsTiesLosses, seededRandom, quantile, mean, DEFAULT_RESAMPLES, DEFAULT_SEED, type BootstrapOptions } from './bootstrap';
export { createEvalConfig, type EvalConfigInput } from './config';
export { DEFAULT_SAMPLE_SEED, selectItems, withSubset, describeSubset, subsetNote } from './subset';
export { EvalInputError, itemsFromTests, itemsFromDataset, itemsFromRecords, datasetFormatOf, parseCsv, stepCategories, type ChainFileInfo, type DatasetFormat } from './items';
export { scoreRun, failedResult, rougeL100, exactMatch, type ScoreOptions } from './score';
export {
  openEvalStore,
  readEvalStore,
  readConfig,
  queryResults,
  readResultsPage,
  tripleKey,
  configHashOf,
  dataHashOf,
  EvalStoreError,
  claimStoreFolder,
  storeFolderName,
  CONFIG_FILE,
  RESULTS_FILE,
  type EvalStore,
  type StoreContents,
  type ResultQuery,
  type ResultPage,
} from './store';
export { editorStoreParent, STORES_FOLDER, type StoreParent } from './storeParent';
export { computeReport, compareStores, failedItems, metricValue, storeProblemsOf, type ComparedStore, type FailedItem, type ItemPairing, type ReportOptions, type SettingDifference, type StoreComparison } from './report';
export { failedItemsSummary, formatFailedItems, formatReport, formatStoreComparison, formatInterval, reportWarnings, SHOWN_FAILURES } from './format';
export { displayLabels } from './labels';
export { runEvaluation } from './evaluate';
export { endpointPool } from './endpoints';
