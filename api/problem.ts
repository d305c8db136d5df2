import type { Response } from 'express';
import { z } from 'zod';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type FieldError } from '../domain/errors';

/**
 * RFC 9457 problem details. `type` is a relative URI under /problems/ naming the kind of
 * problem; `errors` lists each offending field so a client can show it next to the input.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

/** An error whose message and status are safe to show to the caller. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
    /** RFC 9457 extension members, e.g. the machine-readable `reason` of a refusal. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }
}

export function toProblem(error: unknown): { problem: Problem; headers: Record<string, string> } | null {
  if (error instanceof HttpProblem) {
    return {
      problem: { ...error.extensions, ...problem(error.status, error.slug, error.title, error.detail, error.errors) },
      headers: error.headers,
    };
  }
  if (error instanceof ValidationError) {
    return { problem: problem(422, 'validation', 'Your request is not valid.', error.message, error.errors), headers: {} };
  }
  if (error instanceof NotFoundError) return { problem: problem(404, 'not-found', 'Not found.', error.message), headers: {} };
  if (error instanceof ConflictError) {
    return { problem: problem(409, 'conflict', 'The request conflicts with the current state.', error.message, error.errors), headers: {} };
  }
  if (error instanceof ForbiddenError) return { problem: problem(403, 'forbidden', 'Forbidden.', error.message), headers: {} };
  return null;
}

function problem(status: number, slug: string, title: string, detail?: string, errors?: FieldError[]): Problem {
  return {
    type: `/problems/${slug}`,
    title,
    status,
    ...(detail ? { detail } : {}),
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function sendProblem(res: Response, body: Problem, headers: Record<string, string> = {}): void {
  res.status(body.status).set(headers).type('application/problem+json').send(JSON.stringify({ ...body, instance: res.req.originalUrl }));
}

/** Converts zod issues to the field list; `location` prefixes query and path parameters. */
export function fieldErrors(error: z.ZodError, location?: 'query' | 'path'): FieldError[] {
  return error.issues.map((issue) => {
    const at = (segments: readonly PropertyKey[]) => {
      const pointer = segments.map(String).join('/');
      return location ? `${location}.${pointer}` : pointer;
    };
    const field = at(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return { field: at([...issue.path, ...issue.keys]), message: `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}` };
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) return { field, message: 'is required' };
    return { field, message: issue.message };
  });
}
