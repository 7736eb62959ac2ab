import { definePipelineScenarios } from '../scenarios/pipeline-scenarios.js';
import { StackDriver } from '../support/stack-driver.js';

// The same scenarios as test/unit/pipeline, against Kafka, the registry, Redis and the ONNX model.
definePipelineScenarios('real stack', () => StackDriver.create(), 30_000);
