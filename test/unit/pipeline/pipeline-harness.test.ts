import { HarnessDriver } from '../../support/harness-driver.js';
import { definePipelineScenarios } from '../../scenarios/pipeline-scenarios.js';

definePipelineScenarios('in-memory harness', async () => new HarnessDriver(), 5_000);
