import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one process. A registry per process (not the global one) so tests
 * can build several apps side by side without "metric already registered" errors.
 */
export function createMetrics(processName: 'api' | 'worker' | 'stack') {
  const registry = new Registry();
  registry.setDefaultLabels({ process: processName });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'touchpoint_http_request_duration_seconds',
      help: 'HTTP request latency by route template, method and status code',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    workflowSignals: new Counter({
      name: 'touchpoint_workflow_signal_with_start_total',
      help: 'Signals the API sends (most with signalWithStart), by workflow type, signal and outcome',
      labelNames: ['workflow', 'signal', 'outcome'] as const,
      registers: [registry],
    }),
    activityOutcomes: new Counter({
      name: 'touchpoint_activity_executions_total',
      help: 'Activity executions by activity type and outcome (completed, failed)',
      labelNames: ['activity', 'outcome'] as const,
      registers: [registry],
    }),
    activityDuration: new Histogram({
      name: 'touchpoint_activity_duration_seconds',
      help: 'Activity execution time by activity type',
      labelNames: ['activity'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
