import type { TestStack } from './stack';

export interface Reply<T = Record<string, unknown>> {
  status: number;
  type: string | null;
  headers: Headers;
  body: T & { errors?: Array<{ field: string; message: string }>; data?: Array<Record<string, unknown>> };
}

/** A JSON call to the test stack's API with an API key; the body comes back parsed. */
export function apiClient(stack: Pick<TestStack, 'baseUrl'>, defaultKey: () => string) {
  return async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? defaultKey()}`, ...(options.headers ?? {}) };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${stack.baseUrl}${path}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), headers: res.headers, body: (text ? JSON.parse(text) : {}) as Reply<T>['body'] };
  };
}
