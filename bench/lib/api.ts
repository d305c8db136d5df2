import type { ScenarioContext } from './scenario';
import type { BenchStack } from './stack';

/** JSON calls to the stack's API with one key; a non-2xx answer fails the scenario with its body. */
export function apiCaller(stack: Pick<BenchStack, 'apiUrl'>, apiKey: string, ctx: Pick<ScenarioContext, 'signal'>, timeoutMs = 60_000) {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ctx.signal]),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  };
}

/** Whole MiB for tables and JSON; NaN when the worker's memory could not be read. */
export function mib(bytes: number | null): number {
  return bytes === null ? Number.NaN : Math.round(bytes / 1024 ** 2);
}
