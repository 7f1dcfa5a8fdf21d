/** The fine-tuning core: job model, store, config files, engines. See docs/finetune.md. */
export * from './job';
export * from './config';
export * from './store';
export * from './engine';
export * from './python';
export { trlEngine, lastCheckpointOf } from './trl';
export { ensureTrainingFile, promptCompletionText, readTrainingData, TRAINING_FILE, trainingDataRecord, writeTrainingFile, type TrainingDataProgress, type TrainingDataRead } from './trainingData';
export { cancelActiveJob, cancelJob, engineFor, ENGINE_NAMES, jobStatus, resumeJob, startJob, startNewJob, waitForJob } from './engines';
export * from './gguf';
export { processGroupAlive, processStartIdentity } from '../syntax/processes';
export { profileInsertion, profileName, type ProfileInsertion } from './profile';
export { BASE_EVALUATION_MAX_TOKENS, baseGgufPath, ensureBaseGguf, ensureJobGguf, jobGgufPath, outTypeOf, conversionProblem, resultIsAdapter, baseModelFolder, validationDataOf, type GgufOptions } from './evaluation';
export { accelerateConfigYaml } from './accelerate';
export { baseFolderProblem, baseModelIn, FORM_DEFAULTS, FORM_LABELS, formProblem, jobConfigFromFile, jobConfigFromForm, jobSummary, missingInputs, withPathsIn, type FormField, type FormResult, type JobForm } from './form';
export { batchScript, jobSbatchOptions, slurmEngine, slurmScriptProblem, slurmTarget } from './slurm';
export { OWN_SBATCH_OPTIONS, sbatchArgsProblem } from './sbatchOptions';
export { NO_TOGETHER_KEY, NOT_FOR_TOGETHER, planTogetherUpload, TogetherBaseUrlError, TogetherKeyMissingError, togetherKeyNeeded, togetherBaseUrl, togetherBaseUrlProblem, togetherProblems, togetherRefusal, togetherEngine, togetherJobInfo, withTogetherApiKey, writeTogetherUpload, TOGETHER_API_KEY_ENV, TOGETHER_BASE_URL_ENV, UPLOAD_FILE, type TogetherUploadPlan } from './together/engine';
