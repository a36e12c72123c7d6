import { Counter, Histogram, register } from 'prom-client';

function counter(name: string, help: string, labelNames: string[]): Counter<string> {
  return (register.getSingleMetric(name) as Counter<string>) ?? new Counter({ name, help, labelNames });
}
function histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram<string> {
  return (register.getSingleMetric(name) as Histogram<string>) ?? new Histogram({ name, help, labelNames, buckets });
}

export const busMetrics = {
  requests: counter('switchboard_bus_requests_total', 'Bus requests sent, by subject and outcome', ['subject', 'outcome']),
  requestSeconds: histogram(
    'switchboard_bus_request_seconds',
    'Bus request round trip',
    ['subject'],
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
  ),
  published: counter('switchboard_bus_published_total', 'Events published to JetStream', ['subject']),
  handled: counter('switchboard_bus_events_total', 'Events handled by consumers, by outcome', [
    'durable',
    'subject',
    'outcome',
  ]),
  deadLettered: counter('switchboard_bus_dead_lettered_total', 'Events sent to the dead-letter stream', [
    'durable',
    'subject',
  ]),
};
