import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { IdParamsSchema, pageSchema } from '../../domain/schemas/common';
import { DuplicateListQuerySchema, DuplicatePairSchema, MergeRequestSchema, MergeResultSchema } from '../../domain/schemas/duplicates';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { page } from '../pagination';
import { mergeContacts, sendMergeSignals } from '../services/contact-merge';
import { decodeScoreCursor, dismissDuplicatePair, encodeScoreCursor, listDuplicatePairs } from '../services/duplicates';
import { parseBody, parseParams, parseQuery } from '../validate';
import type { WorkflowGateway } from '../workflow-gateway';

const reviewers = ['admin', 'sales_ops', 'manager'] as const;

const survivorship = [
  'Survivorship: the contact in the path survives; the others are soft-deleted with `mergedIntoId` and their automation stops, going on for the survivor (its lifecycle workflow takes the merged stage, owner and latest purchase).',
  '- Name, owner, company, time zone, country and each custom field: the newest non-empty value (by the record\'s last update) unless `pick` names the contact to take it from.',
  '- source: the earliest record\'s (first touch).',
  '- lifecycleStage: the furthest, lead < mql < sql < customer; at_risk and churned rank with customer, and customer beats at_risk beats churned.',
  '- score: the highest (not the sum); lastPurchaseAt: the latest; tags: the union.',
  '- Email addresses and phones: all kept; the survivor\'s primary stays primary and the merged contacts\' become secondary.',
  '- Consent per channel: the most restrictive current state; a revocation on any record is never overridden.',
  '- Activities, tasks, deals, messages, consent ledger entries and enrollments move to the survivor. A running enrollment goes on for the survivor unless the survivor already runs that sequence; then it ends with stop reason `merged`.',
  'The merge is one transaction and is written to the audit log with the before image of every contact. Merging a contact that was already merged is a 409 that changes nothing.',
].join('\n');

export function registerContactDuplicateDocs(registry: OpenAPIRegistry): void {
  const tags = ['Contacts'];
  registry.registerPath({
    method: 'get', path: '/v1/contacts/duplicates', tags, summary: 'Likely duplicate pairs, most likely first',
    description: 'Pairs found by the nightly duplicate audit, each with a score (0..1) and the reasons: same email or phone (also written differently or kept in custom fields), same name at the same company, nicknames, transposed names, accent and spelling variants.',
    request: { query: DuplicateListQuerySchema },
    responses: { 200: jsonBody('A page of pairs', pageSchema(DuplicatePairSchema, 'DuplicatePairPage')), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/contacts/duplicates/{id}/dismiss', tags, summary: 'Mark a pair as different people; later audits keep it dismissed',
    request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The dismissed pair', DuplicatePairSchema), ...problemResponses(400, 401, 403, 404, 409) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/contacts/{id}/merge', tags, summary: 'Merge contacts into this one', description: survivorship,
    request: { params: IdParamsSchema, body: { content: { 'application/json': { schema: MergeRequestSchema } } } },
    responses: { 200: jsonBody('Merged', MergeResultSchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  });
}

/** Mounted on /v1/contacts before the contacts router, so `/duplicates` is not read as a contact id. */
export function contactDuplicatesRouter(deps: ApiDeps, gateway: WorkflowGateway): Router {
  const { prisma } = deps;
  const router = Router();

  router.get('/duplicates', requireRole(...reviewers), async (req, res) => {
    const query = parseQuery(DuplicateListQuerySchema, req);
    const rows = await listDuplicatePairs(prisma, query, decodeScoreCursor(query.cursor));
    res.json(page(rows, query.limit, (pair) => ({ score: pair.score, id: pair.id }), encodeScoreCursor));
  });

  router.post('/duplicates/:id/dismiss', requireRole(...reviewers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await dismissDuplicatePair(prisma, id, { actorId: req.principal!.apiKeyId, requestId: String(req.id) }));
  });

  router.post('/:id/merge', requireRole(...reviewers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const request = parseBody(MergeRequestSchema, req);
    const outcome = await mergeContacts(prisma, id, request, { actorId: req.principal!.apiKeyId, requestId: String(req.id) });
    await sendMergeSignals(gateway, outcome.signals);
    if (outcome.kind === 'refused') throw outcome.error;
    res.json(outcome.result);
  });

  return router;
}
