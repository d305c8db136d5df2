import type { z } from 'zod';
import { ProblemSchema } from './problem';

const problemDescriptions: Record<number, string> = {
  400: 'Malformed request (bad JSON, query or path parameter)',
  401: 'Missing, unknown or revoked API key',
  403: 'The API key\'s role does not allow this',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Body larger than the limit',
  415: 'Unsupported Content-Type (send application/json)',
  422: 'Invalid fields (listed in `errors`)',
};

export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: problemDescriptions[status] ?? 'Error', content: { 'application/problem+json': { schema: ProblemSchema } } }]),
  );
}

export function jsonBody(description: string, schema: z.ZodType) {
  return { description, content: { 'application/json': { schema } } };
}
