import type { ScenarioContext } from './scenario';
import { sleep } from './stack';

export interface RssSampler {
  /** The latest sample, or null before the first one. */
  current(): number | null;
  /** Forgets the peak so far: the peak then covers only what follows. */
  resetPeak(): void;
  stop(): Promise<{ peak: number | null; last: number | null }>;
}

/** Polls the worker's process_resident_memory_bytes (its /metrics) every `intervalMs` until stopped. */
export function sampleWorkerRss(metricsUrl: string, { log, signal }: Pick<ScenarioContext, 'log' | 'signal'>, intervalMs = 2_000): RssSampler {
  let peak: number | null = null;
  let last: number | null = null;
  let running = true;
  let warned = false;
  const loop = (async () => {
    while (running && !signal.aborted) {
      try {
        const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(2_000) })).text();
        const match = /^process_resident_memory_bytes(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
        if (match) {
          last = Number(match[1]);
          peak = Math.max(peak ?? 0, last);
        }
      } catch (error) {
        if (!warned) log(`bench: worker metrics at ${metricsUrl} not readable: ${error instanceof Error ? error.message : String(error)}`);
        warned = true;
      }
      await sleep(intervalMs);
    }
  })();
  return {
    current: () => last,
    resetPeak() {
      peak = last;
    },
    async stop() {
      running = false;
      await loop;
      return { peak, last };
    },
  };
}
