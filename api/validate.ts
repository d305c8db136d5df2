import type { Request } from 'express';
import type { z } from 'zod';
import { ValidationError } from '../domain/errors';
import { HttpProblem, fieldErrors } from './problem';

/** With the input on each issue, a wrong type ("12.5" for a number) reads as such, not as "is required". */
const withInput = { reportInput: true } as const;

/** Body validation: a well-formed body with invalid fields is 422 and names each field. */
export function parseBody<T extends z.ZodType>(schema: T, req: Request): z.output<T> {
  const parsed = schema.safeParse(req.body ?? {}, withInput);
  if (!parsed.success) throw new ValidationError(fieldErrors(parsed.error));
  return parsed.data;
}

/** Query and path parameters that do not parse make the request itself malformed: 400. */
export function parseQuery<T extends z.ZodType>(schema: T, req: Request): z.output<T> {
  const parsed = schema.safeParse(req.query, withInput);
  if (!parsed.success) {
    throw new HttpProblem(400, 'invalid-parameters', 'Invalid query parameters.', 'One or more query parameters are not valid.', fieldErrors(parsed.error, 'query'));
  }
  return parsed.data;
}

export function parseParams<T extends z.ZodType>(schema: T, req: Request): z.output<T> {
  const parsed = schema.safeParse(req.params, withInput);
  if (!parsed.success) {
    throw new HttpProblem(400, 'invalid-parameters', 'Invalid path parameters.', 'One or more path parameters are not valid.', fieldErrors(parsed.error, 'path'));
  }
  return parsed.data;
}
