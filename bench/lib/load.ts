import { performance } from 'node:perf_hooks';
import { summarize, type LatencySummary } from './stats';

/**
 * Load drivers. An operation resolves to null on success or to a short label of what went
 * wrong ("HTTP 429", "timeout"); a thrown error is turned into a label too. Both drivers are
 * bounded by a count and by a deadline: after the deadline, or once `signal` is aborted,
 * nothing new is started.
 */
export type Operation = (index: number) => Promise<string | null>;

export interface PassResult {
  /** Operations started (below the requested count only when the deadline cut the pass short). */
  started: number;
  ok: number;
  errors: number;
  /** Error label -> how many. */
  errorKinds: Record<string, number>;
  durationSeconds: number;
  /** Successful operations per second of wall time, first start to last finish. */
  rate: number;
  /** Latencies of the successful operations. */
  latency: LatencySummary;
  cutByDeadline: boolean;
}

export interface OpenLoopResult extends PassResult {
  targetRate: number;
  /** Latency from the moment each request was due to be sent (counts queueing behind a slow server). */
  latency: LatencySummary;
  /** Latency from the moment each request was actually sent. */
  serviceLatency: LatencySummary;
  /** Requests sent more than 10 ms after they were due (the in-flight cap was reached or the client lagged). */
  lateStarts: number;
}

class Recorder {
  readonly latencies: number[] = [];
  readonly serviceLatencies: number[] = [];
  readonly errorKinds: Record<string, number> = {};
  errors = 0;

  async run(operation: Operation, index: number, dueAt: number): Promise<void> {
    const sentAt = performance.now();
    let failure: string | null;
    try {
      failure = await operation(index);
    } catch (error) {
      failure = describeError(error);
    }
    const doneAt = performance.now();
    if (failure === null) {
      this.latencies.push(doneAt - dueAt);
      this.serviceLatencies.push(doneAt - sentAt);
    } else {
      this.errors += 1;
      this.errorKinds[failure] = (this.errorKinds[failure] ?? 0) + 1;
    }
  }
}

/** Closed loop: `concurrency` workers, each sending its next operation as soon as the last one ends. */
export async function closedLoop(options: { count: number; concurrency: number; deadlineMs: number; operation: Operation; signal?: AbortSignal }): Promise<PassResult> {
  const { count, concurrency, deadlineMs, operation, signal } = options;
  const recorder = new Recorder();
  const start = performance.now();
  const stopAt = start + deadlineMs;
  let next = 0;
  let cutByDeadline = false;
  const worker = async () => {
    for (;;) {
      if (next >= count || signal?.aborted) return;
      if (performance.now() >= stopAt) {
        cutByDeadline = true;
        return;
      }
      const index = next;
      next += 1;
      await recorder.run(operation, index, performance.now());
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return finish(recorder, next, performance.now() - start, cutByDeadline);
}

/**
 * Open loop: operation i is due at start + i / rate whatever the earlier ones are doing, so a
 * slow server shows up as latency instead of silently lowering the offered load. In-flight
 * operations are capped at `maxInFlight` to keep the pass bounded.
 */
export async function openLoop(options: { count: number; ratePerSecond: number; maxInFlight: number; deadlineMs: number; operation: Operation; signal?: AbortSignal }): Promise<OpenLoopResult> {
  const { count, ratePerSecond, maxInFlight, deadlineMs, operation, signal } = options;
  const recorder = new Recorder();
  const intervalMs = 1000 / ratePerSecond;
  const start = performance.now();
  const stopAt = start + deadlineMs;
  const inFlight = new Set<Promise<void>>();
  let started = 0;
  let lateStarts = 0;
  let cutByDeadline = false;
  for (let index = 0; index < count; index += 1) {
    const dueAt = start + index * intervalMs;
    const wait = dueAt - performance.now();
    if (wait > 1) await sleep(wait);
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (signal?.aborted) break;
    if (performance.now() >= stopAt) {
      cutByDeadline = true;
      break;
    }
    if (performance.now() - dueAt > 10) lateStarts += 1;
    const running: Promise<void> = recorder.run(operation, index, dueAt).finally(() => inFlight.delete(running));
    inFlight.add(running);
    started += 1;
  }
  await Promise.all(inFlight);
  const result = finish(recorder, started, performance.now() - start, cutByDeadline);
  return { ...result, targetRate: ratePerSecond, serviceLatency: summarize(recorder.serviceLatencies), lateStarts };
}

function finish(recorder: Recorder, started: number, elapsedMs: number, cutByDeadline: boolean): PassResult {
  const ok = recorder.latencies.length;
  return {
    started,
    ok,
    errors: recorder.errors,
    errorKinds: recorder.errorKinds,
    durationSeconds: elapsedMs / 1000,
    rate: elapsedMs > 0 ? ok / (elapsedMs / 1000) : 0,
    latency: summarize(recorder.latencies),
    cutByDeadline,
  };
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
    const cause = (error as Error & { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
    return detail.slice(0, 120);
  }
  return String(error).slice(0, 120);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
