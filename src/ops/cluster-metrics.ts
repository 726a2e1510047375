import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { z } from 'zod';

/** What `/metrics` renders: one process's registry, or the whole process group's. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** A worker waits this long for the primary's answer (prom-client gives each worker 5 s). */
const ANSWER_TIMEOUT_MS = 6000;

const GroupMetricsRequest = z.object({ type: z.literal('spine-safety:group-metrics-request'), id: z.number().int() });
const GroupMetricsAnswer = z.union([
  z.object({ type: z.literal('spine-safety:group-metrics-answer'), id: z.number().int(), text: z.string() }),
  z.object({ type: z.literal('spine-safety:group-metrics-answer'), id: z.number().int(), failed: z.literal(true) }),
]);
type GroupMetricsAnswer = z.infer<typeof GroupMetricsAnswer>;

/** The IPC channel of a cluster worker to its primary (`process` in a worker). */
export interface PrimaryChannel {
  send?: ((message: unknown) => boolean) | undefined;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * In the primary: answers a worker's request for the group's metrics by collecting every
 * worker's registry (prom-client's AggregatorRegistry: counters and histograms summed, gauges by
 * their `aggregator`) and sending the text back to the worker that asked.
 * @see https://github.com/siimon/prom-client#usage-with-nodejss-cluster-module
 */
export function answerGroupMetrics(nodeCluster: Pick<typeof cluster, 'on'> = cluster): void {
  const aggregator = new AggregatorRegistry();
  nodeCluster.on('message', (worker: Worker, message: unknown) => {
    const request = GroupMetricsRequest.safeParse(message);
    if (!request.success) return;
    const answer = (body: { text: string } | { failed: true }): void => {
      if (worker.isConnected()) worker.send({ type: 'spine-safety:group-metrics-answer', id: request.data.id, ...body });
    };
    aggregator.clusterMetrics().then(
      (text) => answer({ text }),
      () => answer({ failed: true }),
    );
  });
}

/**
 * In a worker: offers `registry` to the primary's collection and returns the source `/metrics`
 * renders, which asks the primary for the whole group, so a scrape sees every worker whichever
 * one answers it. It rejects when the primary does not answer in time.
 */
export function groupMetricsSource(registry: Registry, channel: PrimaryChannel = process): MetricsSource {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing it in a worker installs prom-client's answer to the primary's collection.
  const local = new AggregatorRegistry();
  const pending = new Map<number, (answer: GroupMetricsAnswer) => void>();
  let nextId = 0;
  channel.on('message', (message) => {
    const answer = GroupMetricsAnswer.safeParse(message);
    if (answer.success) pending.get(answer.data.id)?.(answer.data);
  });
  return {
    contentType: local.contentType,
    metrics: () =>
      new Promise<string>((resolve, reject) => {
        const id = (nextId += 1);
        const timer = setTimeout(() => settle({ type: 'spine-safety:group-metrics-answer', id, failed: true }), ANSWER_TIMEOUT_MS);
        const settle = (answer: GroupMetricsAnswer): void => {
          clearTimeout(timer);
          pending.delete(id);
          if ('text' in answer) resolve(answer.text);
          else reject(new Error('the process group did not report its metrics'));
        };
        pending.set(id, settle);
        if (channel.send) channel.send({ type: 'spine-safety:group-metrics-request', id });
        else settle({ type: 'spine-safety:group-metrics-answer', id, failed: true });
      }),
  };
}
