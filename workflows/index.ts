// Bundle entry: every workflow function the worker registers.
export { incidentWorkflow } from './incident';
