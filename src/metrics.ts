import { Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per process, passed to whoever records figures and to GET /metrics. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'loa' });
  collectDefaultMetrics({ register: registry, prefix: 'loa_' });
  return registry;
}
