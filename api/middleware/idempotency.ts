import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import { HttpProblem } from '../problem';

/** A claim older than this was left by a crashed request and may be taken over. */
const abandonedAfterMs = 60_000;
const inProgress = 0;

/**
 * `Idempotency-Key` on writes (draft-ietf-httpapi-idempotency-key-header): the first request
 * claims the key, its response is stored, and a repeat with the same key and body gets that
 * response back without running again. A repeat with a different body is 422; a repeat while
 * the first is still running is 409. 5xx responses release the key so the client can retry.
 */
export function idempotency(prisma: PrismaClient, scopeOf: (req: Request) => string) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const key = req.get('idempotency-key');
    if (key === undefined || !['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) return next();
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new HttpProblem(400, 'invalid-idempotency-key', 'Invalid Idempotency-Key.', 'Idempotency-Key must be 1-255 visible ASCII characters.', [
        { field: 'header.Idempotency-Key', message: 'must be 1-255 visible ASCII characters' },
      ]);
    }
    const scope = scopeOf(req);
    const requestHash = createHash('sha256')
      .update(`${req.method} ${req.originalUrl}\n${JSON.stringify(req.body ?? null)}`)
      .digest('hex');

    const claimed = await prisma.$executeRaw`
      INSERT INTO idempotent_requests (id, scope, key, method, path, request_hash, response_status, response_body)
      VALUES (gen_random_uuid(), ${scope}, ${key}, ${req.method}, ${req.originalUrl}, ${requestHash}, ${inProgress}, 'null'::jsonb)
      ON CONFLICT (scope, key) DO UPDATE SET created_at = now(), request_hash = EXCLUDED.request_hash
        WHERE idempotent_requests.response_status = ${inProgress}
          AND idempotent_requests.created_at < now() - make_interval(secs => ${abandonedAfterMs / 1000})`;
    if (claimed === 0) {
      const previous = await prisma.idempotentRequest.findUniqueOrThrow({ where: { scope_key: { scope, key } } });
      if (previous.requestHash !== requestHash) {
        throw new HttpProblem(422, 'idempotency-key-reused', 'Idempotency-Key reused.', 'This Idempotency-Key was already used for a different request.', [
          { field: 'header.Idempotency-Key', message: 'was used before with a different method, path or body' },
        ]);
      }
      if (previous.responseStatus === inProgress) {
        throw new HttpProblem(409, 'idempotency-in-progress', 'Request in progress.', 'A request with this Idempotency-Key is still being processed; retry shortly.', undefined, { 'Retry-After': '1' });
      }
      res.status(previous.responseStatus).set('Idempotent-Replayed', 'true');
      res.json(previous.responseBody);
      return;
    }

    // Stored before the response leaves, so a repeat that arrives right after the first
    // answer is already a replay. Only 2xx answers are kept: a refused request changed nothing,
    // so running it again is equivalent and lets the client fix its input under the same key.
    const release = () => prisma.idempotentRequest.deleteMany({ where: { scope, key, responseStatus: inProgress } });
    let stored = false;
    const json = res.json.bind(res);
    res.json = (value: unknown) => {
      stored = true;
      const store = res.statusCode >= 200 && res.statusCode < 300
        ? prisma.idempotentRequest.update({
            where: { scope_key: { scope, key } },
            data: { responseStatus: res.statusCode, responseBody: value === undefined ? Prisma.JsonNull : (value as Prisma.InputJsonValue) },
          })
        : release();
      store.then(
        () => json(value),
        (error: unknown) => next(error),
      );
      return res;
    };
    res.on('finish', () => {
      if (res.statusCode >= 300) release().catch((error: unknown) => req.log.error({ err: error }, 'failed to release idempotency key'));
      // A success without a JSON body (204 of a delete) is kept too, so its retry replays it.
      else if (!stored) {
        prisma.idempotentRequest
          .updateMany({ where: { scope, key, responseStatus: inProgress }, data: { responseStatus: res.statusCode, responseBody: Prisma.JsonNull } })
          .catch((error: unknown) => req.log.error({ err: error }, 'failed to store idempotent response'));
      }
    });
    next();
  };
}
