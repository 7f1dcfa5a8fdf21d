/** The fine-tuning core: job model, store, config files, engines. See docs/finetune.md. */
export * from './job';
export * from './config';
export * from './store';
export * from './engine';
export * from './python';
export { trlEngine, lastCheckpointOf } from './trl';
export { cancelJob, engineFor, ENGINE_NAMES, jobStatus, resumeJob, startJob, waitForJob } from './engines';
export * from './gguf';
export { profileInsertion, profileName, type ProfileInsertion } from './profile';
export { baseGgufPath, ensureBaseGguf, outTypeOf, validationDataOf } from './evaluation';
export { accelerateConfigYaml } from './accelerate';
export { BATCH_SCRIPT, describeCluster, parseSacct, parseScontrolJob, slurmBatchScript, slurmEngine, writeBatchScript } from './slurm';
