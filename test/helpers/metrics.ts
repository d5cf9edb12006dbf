/**
 * Reading what the client records with the real OpenTelemetry metrics SDK: a
 * reader with delta temporality, so each collection holds only what was
 * recorded since the last one, and helpers that pick data points by name.
 */
import { createHash } from 'node:crypto';
import type { Attributes } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, MetricReader } from '@opentelemetry/sdk-metrics';
import { expect } from 'vitest';

export class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  }
  protected onForceFlush() {
    return Promise.resolve();
  }
  protected onShutdown() {
    return Promise.resolve();
  }
}

export interface Point {
  attributes: Attributes;
  value: number | { count: number; sum?: number };
}

export type Collected = Record<string, Point[]>;

/** Every data point now, by metric name; every metric must come from the meter `chatdash-client`. */
export async function collect(reader: MetricReader): Promise<Collected> {
  const { resourceMetrics } = await reader.collect();
  const out: Collected = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    expect(scope.scope).toMatchObject({ name: 'chatdash-client' });
    for (const metric of scope.metrics) {
      const points = metric.dataPoints as { attributes: Attributes; value: unknown }[];
      out[metric.descriptor.name] = points.map((p) => ({
        attributes: p.attributes,
        value:
          metric.dataPointType === DataPointType.HISTOGRAM
            ? { count: (p.value as { count: number }).count, sum: (p.value as { sum: number }).sum }
            : (p.value as number),
      }));
    }
  }
  return out;
}

/** Histogram points of `name` whose attributes include `match`. */
export function histogram(all: Collected, name: string, match: Attributes = {}) {
  return (all[name] ?? [])
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .map((p) => ({ attributes: p.attributes, ...(p.value as { count: number; sum: number }) }));
}

/** The scope's label: the first 12 hex characters of the scope id (SHA-256 of origin and key). */
export const scopeId = (baseUrl: string, key: string) =>
  createHash('sha256')
    .update(`${new URL(baseUrl).origin}\n${key}`)
    .digest('hex')
    .slice(0, 12);

/** Gauge `name` of the scope of `baseUrl` and `key`; undefined when not reported. */
export function gauge(all: Collected, name: string, baseUrl: string, key: string) {
  const points = (all[name] ?? []).filter(
    (p) => p.attributes['chatdash.scope'] === scopeId(baseUrl, key),
  );
  expect(points.length).toBeLessThanOrEqual(1);
  if (points[0])
    expect(points[0].attributes).toEqual({
      'server.address': '127.0.0.1',
      'chatdash.scope': scopeId(baseUrl, key),
    });
  return points[0]?.value as number | undefined;
}
