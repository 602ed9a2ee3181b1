// The payload codec of the Fireline side of every bench: production encrypts every payload, so the benches do.
// The bare-Temporal baselines run without a codec on purpose: the ratios then include what encryption costs.
// A fixed ring (the tests' one), because API replica processes and the workers must open each other's payloads.
import type { DataConverter } from '@temporalio/common';
import { testDataConverter } from '../tests/support/keys';

export const FIRELINE_BENCH_CONVERTER: DataConverter = testDataConverter();
