// SDK logs at WARN in tests: failures stay visible, routine worker chatter does not.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
