export { BreachInputError, BreachStepError } from './errors';
export { parseBreachRequest, DEFAULT_CONCURRENCY, MAX_CONCURRENCY, type BreachRequest, type SecretSelection } from './input';
export { planBreach, type BreachAction, type BreachPlan } from './plan';
export { respondToBreach, waitForRotation, type AuditLog, type BreachDeps, type SecretReport, type ActionRecord } from './procedure';
export { runBreach, mapBounded, type BreachReport, type RunBreachOptions } from './run';
export { BreachSecretsApi, DEFAULT_BREACH_PACING, readBreachPacing, type BreachPacing, type BreachSecretInfo } from './secrets';
