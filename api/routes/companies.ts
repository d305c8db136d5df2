import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { NotFoundError } from '../../domain/errors';
import { IdParamsSchema, pageSchema, userRoles } from '../../domain/schemas/common';
import {
  CompanyCreateSchema,
  CompanyListQuerySchema,
  CompanyMergeRequestSchema,
  CompanyMergeResultSchema,
  CompanySchema,
  CompanyUpdateSchema,
} from '../../domain/schemas/company';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { createCompany, deleteCompany, getCompany, listCompanies, mergeCompanies, updateCompany } from '../services/companies';
import { parseBody, parseParams, parseQuery } from '../validate';

// Everyone who may create and edit contacts may do so with companies; deleting and merging
// follow contacts too.
const deleters = ['admin', 'marketer', 'sales_ops'] as const;
const mergers = ['admin', 'sales_ops', 'manager'] as const;

const dedupe = 'The domain is the dedupe key: a domain another company has is a 409 naming `domain`, with that company\'s id in `existingCompanyId`, so a client can link to it instead of creating a duplicate.';

const survivorship = [
  'The company in the path survives and keeps its name and every field it has a value for; a field it has empty (domain, owner) takes the value of the first company in `mergeIds` that has one.',
  'Every contact and deal (open or closed) of a merged company moves to the survivor. The merged companies are soft-deleted and their domains released; the survivor may have taken one.',
  'One transaction, written to the audit log with the before image of every company (`company.merged` on the survivor, `company.merged_into` on each merged one).',
].join('\n');

export function registerCompanyDocs(registry: OpenAPIRegistry): void {
  const tags = ['Companies'];
  registry.registerPath({
    method: 'get', path: '/v1/companies', tags, summary: 'List companies (newest first, cursor pagination)',
    request: { query: CompanyListQuerySchema },
    responses: { 200: jsonBody('A page of companies', pageSchema(CompanySchema, 'CompanyPage')), ...problemResponses(400, 401) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/companies', tags, summary: 'Create a company', description: dedupe,
    request: { body: { content: { 'application/json': { schema: CompanyCreateSchema } } } },
    responses: { 201: jsonBody('Created', CompanySchema), ...problemResponses(400, 401, 403, 409, 413, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/companies/{id}', tags, summary: 'Read a company, with its counts of contacts and open deals', request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The company', CompanySchema), ...problemResponses(400, 401, 404) },
  });
  registry.registerPath({
    method: 'patch', path: '/v1/companies/{id}', tags, summary: 'Update a company', description: `${dedupe} \`domain: null\` removes the domain.`,
    request: { params: IdParamsSchema, body: { content: { 'application/json': { schema: CompanyUpdateSchema } } } },
    responses: { 200: jsonBody('Updated', CompanySchema), ...problemResponses(400, 401, 403, 404, 409, 415, 422) },
  });
  registry.registerPath({
    method: 'delete', path: '/v1/companies/{id}', tags, summary: 'Delete a company (soft; refused with 409 while contacts or open deals link to it)',
    request: { params: IdParamsSchema },
    responses: { 204: { description: 'Deleted' }, ...problemResponses(400, 401, 403, 404, 409) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/companies/{id}/merge', tags, summary: 'Merge companies into this one', description: survivorship,
    request: { params: IdParamsSchema, body: { content: { 'application/json': { schema: CompanyMergeRequestSchema } } } },
    responses: { 200: jsonBody('Merged', CompanyMergeResultSchema), ...problemResponses(400, 401, 403, 404, 415, 422) },
  });
}

export function companiesRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();
  const auditOf = (req: Request) => ({ actorId: req.principal!.apiKeyId, requestId: String(req.id) });

  router.get('/', requireRole(...userRoles), async (req, res) => {
    const query = parseQuery(CompanyListQuerySchema, req);
    const rows = await listCompanies(prisma, query, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (company) => ({ at: new Date(company.createdAt), id: company.id })));
  });

  router.post('/', requireRole(...userRoles), async (req, res) => {
    const company = await createCompany(prisma, parseBody(CompanyCreateSchema, req), auditOf(req));
    res.status(201).location(`/v1/companies/${company.id}`).json(company);
  });

  router.get('/:id', requireRole(...userRoles), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const company = await getCompany(prisma, id);
    if (!company) throw new NotFoundError('Company', id);
    res.json(company);
  });

  router.patch('/:id', requireRole(...userRoles), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await updateCompany(prisma, id, parseBody(CompanyUpdateSchema, req), auditOf(req)));
  });

  router.delete('/:id', requireRole(...deleters), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    await deleteCompany(prisma, id, auditOf(req));
    res.status(204).end();
  });

  router.post('/:id/merge', requireRole(...mergers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await mergeCompanies(prisma, id, parseBody(CompanyMergeRequestSchema, req), auditOf(req)));
  });

  return router;
}
