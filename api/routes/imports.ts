import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { NotFoundError } from '../../domain/errors';
import { IdParamsSchema, pageSchema } from '../../domain/schemas/common';
import { ImportListQuerySchema, ImportQuerySchema, ImportViewSchema } from '../../domain/schemas/import';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { decodeCursor, page } from '../pagination';
import { HttpProblem } from '../problem';
import { cancelImport, createImport, getImport, importReport, listImports } from '../services/imports';
import { parseParams, parseQuery } from '../validate';
import type { WorkflowGateway } from '../workflow-gateway';

const importers = ['admin', 'marketer', 'sales_ops'] as const;
const readers = [...importers, 'manager'] as const;

const requestNote = [
  'The body is the CSV file itself (`Content-Type: text/csv`, UTF-8, up to IMPORT_MAX_MB), the options are query parameters.',
  'The first row names the columns; the separator (`,` `;` tab `|`) is detected from it. The file streams into storage and the answer comes once it is all stored:',
  '202 with the queued import, whose batches then run in the background (GET it for progress).',
  'A file that cannot be read as CSV (empty, an Excel workbook, not UTF-8, no header row) is a 422 on `body`; a mapping that does not fit its header a 422 on `query.map`.',
  'Every row is validated and normalised like the contacts API; rows match existing contacts by email, then phone, and `policy` decides what a match changes.',
  'Rejected rows are never dropped silently: GET the report.',
].join(' ');

export function registerImportDocs(registry: OpenAPIRegistry): void {
  const tags = ['Imports'];
  registry.registerPath({
    method: 'post', path: '/v1/imports', tags, summary: 'Import contacts from a CSV file', description: requestNote,
    request: { query: ImportQuerySchema, body: { required: true, content: { 'text/csv': { schema: z.string().meta({ format: 'binary' }) } } } },
    responses: { 202: jsonBody('Stored and queued', ImportViewSchema), ...problemResponses(400, 401, 403, 413, 415, 422) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/imports', tags, summary: 'Imports, newest first', request: { query: ImportListQuerySchema },
    responses: { 200: jsonBody('A page of imports', pageSchema(ImportViewSchema, 'ImportPage')), ...problemResponses(400, 401, 403) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/imports/{id}', tags, summary: 'An import with its progress and counts (and, for a dry run, the preview)', request: { params: IdParamsSchema },
    responses: { 200: jsonBody('The import', ImportViewSchema), ...problemResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'post', path: '/v1/imports/{id}/cancel', tags, summary: 'Cancel a queued or running import',
    description: 'The batch under way commits, then the import ends as `cancelled`; rows already imported stay. An import that has ended is a 409.',
    request: { params: IdParamsSchema },
    responses: { 202: jsonBody('Cancelling', ImportViewSchema), ...problemResponses(400, 401, 403, 404, 409) },
  });
  registry.registerPath({
    method: 'get', path: '/v1/imports/{id}/report', tags, summary: 'The report: one CSV line per problem of a rejected row or a value not taken',
    description: 'Columns `line,column,reason,value`: the file line where the row starts (the header is line 1), the CSV column (empty for the whole row), why, and the value as it was in the file. UTF-8 with a byte order mark, CRLF line ends; values a spreadsheet would run as a formula start with an apostrophe. Available while the import runs.',
    request: { params: IdParamsSchema },
    responses: { 200: { description: 'The report', content: { 'text/csv': { schema: z.string() } } }, ...problemResponses(400, 401, 403, 404) },
  });
}

export function importsRouter(deps: ApiDeps, gateway: WorkflowGateway): Router {
  const { prisma, config } = deps;
  const maxBytes = config.IMPORT_MAX_MB * 1024 * 1024;
  const router = Router();

  router.post('/', requireRole(...importers), async (req, res) => {
    try {
      if (!req.is('text/csv')) {
        throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported Content-Type.', 'Send the CSV file as the body, with Content-Type: text/csv.', [
          { field: 'header.Content-Type', message: 'must be text/csv' },
        ]);
      }
      const query = parseQuery(ImportQuerySchema, req);
      if (Number(req.headers['content-length'] ?? 0) > maxBytes) {
        throw new HttpProblem(413, 'body-too-large', 'Body too large.', `The CSV is larger than the ${config.IMPORT_MAX_MB} MiB limit (IMPORT_MAX_MB).`);
      }
      const view = await createImport(
        { prisma, gateway, maxBytes },
        req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>,
        query,
        { actorId: req.principal!.apiKeyId, requestId: String(req.id) },
      );
      res.status(202).location(`/v1/imports/${view.id}`).json(view);
    } catch (error) {
      // Read the rest of a refused upload, so the client gets the answer instead of a reset connection.
      if (!req.complete) req.resume();
      throw error;
    }
  });

  router.get('/', requireRole(...readers), async (req, res) => {
    const query = parseQuery(ImportListQuerySchema, req);
    const rows = await listImports(prisma, query.limit, decodeCursor(query.cursor));
    res.json(page(rows, query.limit, (view) => ({ at: new Date(view.createdAt), id: view.id })));
  });

  router.get('/:id', requireRole(...readers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.json(await getImport(prisma, id));
  });

  router.post('/:id/cancel', requireRole(...importers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    res.status(202).json(await cancelImport(prisma, id, { actorId: req.principal!.apiKeyId, requestId: String(req.id) }));
  });

  router.get('/:id/report', requireRole(...readers), async (req, res) => {
    const { id } = parseParams(IdParamsSchema, req);
    const exists = await prisma.import.findFirst({ where: { id, status: { not: 'uploading' } }, select: { id: true } });
    if (!exists) throw new NotFoundError('Import', id);
    res.status(200).type('text/csv; charset=utf-8').attachment(`import-${id}-report.csv`);
    await pipeline(Readable.from(importReport(prisma, id)), res);
  });

  return router;
}
