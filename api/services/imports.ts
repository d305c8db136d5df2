import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors';
import { resolveMapping } from '../../domain/import/fields';
import { reportHeader, reportLine } from '../../domain/import/report';
import type { ImportChangeView, ImportOptions, ImportQuery, ImportView } from '../../domain/schemas/import';
import { Prisma, type PrismaClient } from '../../runtime/prisma';
import type { Cursor } from '../pagination';
import type { WorkflowGateway } from '../workflow-gateway';
import type { AuditContext } from './contacts';
import { importChunkSize, storeUpload, type CsvHead } from './import-upload';

type ImportRow = Prisma.ImportGetPayload<object>;

export interface ImportServiceDeps {
  prisma: PrismaClient;
  gateway: Pick<WorkflowGateway, 'startContactImport'>;
  maxBytes: number;
}

/**
 * Creates an import from a CSV body: the header is checked against the options (the mapping
 * must name real columns and give every contact an email or phone column) before anything is
 * stored, the file streams into PostgreSQL, and the import's workflow starts once the whole
 * file is there. Answers with the queued import.
 */
export async function createImport(deps: ImportServiceDeps, body: AsyncIterable<Buffer>, query: ImportQuery, audit: AuditContext): Promise<ImportView> {
  const { prisma } = deps;
  const accept = async ({ header, delimiter }: CsvHead): Promise<string> => {
    const resolved = resolveMapping(header, query.map);
    if (resolved.errors.length > 0) throw new ValidationError(resolved.errors, 'The column mapping does not fit the file.');
    const options: ImportOptions = {
      header,
      mapping: resolved.mapping,
      unmappedColumns: resolved.unmapped,
      delimiter,
      defaultCountry: query.defaultCountry ?? null,
      source: query.source,
      policy: query.policy,
      consent: query.consent === 'granted' ? { channels: query.consentChannels, basis: query.consentBasis! } : null,
      previewSize: query.previewSize,
    };
    const created = await prisma.import.create({
      data: {
        dryRun: query.dryRun,
        fileName: query.fileName ?? null,
        options: options as unknown as Prisma.InputJsonObject,
        chunkSize: importChunkSize,
        createdById: audit.actorId,
      },
    });
    return created.id;
  };
  const stored = await storeUpload(prisma, body, { accept, maxBytes: deps.maxBytes, ...(query.delimiter ? { delimiter: query.delimiter } : {}) });
  const row = await prisma.$transaction(async (tx) => {
    const queued = await tx.import.update({ where: { id: stored.importId }, data: { status: 'queued', byteSize: stored.byteSize } });
    await tx.auditLog.create({
      data: {
        actorType: 'api_key', actorId: audit.actorId, action: 'import.created', entityType: 'import', entityId: queued.id, requestId: audit.requestId,
        after: { fileName: queued.fileName, bytes: stored.byteSize, dryRun: queued.dryRun, options: queued.options as Prisma.InputJsonObject },
      },
    });
    return queued;
  });
  try {
    await deps.gateway.startContactImport(row.id);
  } catch (error) {
    await prisma.import.update({ where: { id: row.id }, data: { status: 'failed', error: 'its workflow could not be started', finishedAt: new Date() } });
    throw error;
  }
  return toImportView(row);
}

export async function getImport(prisma: PrismaClient, id: string): Promise<ImportView> {
  const row = await prisma.import.findUnique({ where: { id } });
  if (!row || row.status === 'uploading') throw new NotFoundError('Import', id);
  return toImportView(row);
}

export async function listImports(prisma: PrismaClient, limit: number, cursor: Cursor | undefined): Promise<ImportView[]> {
  const rows = await prisma.import.findMany({
    where: {
      status: { not: 'uploading' },
      ...(cursor ? { OR: [{ createdAt: { lt: cursor.at } }, { createdAt: cursor.at, id: { lt: cursor.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
  });
  return rows.map(toImportView);
}

/**
 * Marks a queued or running import for cancellation; its next batch ends it (the batch under
 * way, seconds of work, commits first). Asking again is harmless; an ended import is a 409.
 */
export async function cancelImport(prisma: PrismaClient, id: string, audit: AuditContext): Promise<ImportView> {
  return prisma.$transaction(async (tx) => {
    const marked = await tx.import.updateMany({ where: { id, status: { in: ['queued', 'running'] } }, data: { status: 'cancelling' } });
    const row = await tx.import.findUnique({ where: { id } });
    if (!row || row.status === 'uploading') throw new NotFoundError('Import', id);
    if (marked.count === 0 && row.status !== 'cancelling') throw new ConflictError(`The import has already ended (${row.status}); there is nothing to cancel.`);
    if (marked.count > 0) {
      await tx.auditLog.create({ data: { actorType: 'api_key', actorId: audit.actorId, action: 'import.cancel_requested', entityType: 'import', entityId: id, requestId: audit.requestId } });
    }
    return toImportView(row);
  });
}

const reportPageSize = 2000;

/** The report, read from the database page by page as the response is sent. */
export async function* importReport(prisma: PrismaClient, id: string): AsyncGenerator<string> {
  yield reportHeader;
  let after = { line: 0, seq: -1 };
  for (;;) {
    const rows = await prisma.importRowError.findMany({
      where: { importId: id, OR: [{ line: { gt: after.line } }, { line: after.line, seq: { gt: after.seq } }] },
      orderBy: [{ line: 'asc' }, { seq: 'asc' }],
      take: reportPageSize,
    });
    if (rows.length === 0) return;
    yield rows.map(reportLine).join('');
    const last = rows[rows.length - 1]!;
    after = { line: last.line, seq: last.seq };
  }
}

export function toImportView(row: ImportRow): ImportView {
  const options = row.options as unknown as ImportOptions;
  const bytesTotal = Number(row.byteSize);
  const bytesRead = row.status === 'completed' ? bytesTotal : Number(row.byteOffset);
  return {
    id: row.id,
    status: row.status,
    dryRun: row.dryRun,
    fileName: row.fileName,
    options: {
      policy: options.policy,
      defaultCountry: options.defaultCountry,
      source: options.source,
      consent: options.consent,
      delimiter: options.delimiter,
      mapping: options.mapping.map(({ column, field }) => ({ column, field })),
      unmappedColumns: options.unmappedColumns,
    },
    progress: { bytesTotal, bytesRead, percent: bytesTotal > 0 ? Math.round((bytesRead / bytesTotal) * 1000) / 10 : 0 },
    counts: { rowsRead: row.rowsRead, created: row.created, updated: row.updated, skipped: row.skipped, failed: row.failed },
    error: row.error,
    reportUrl: `/v1/imports/${row.id}/report`,
    preview: row.dryRun ? (row.preview as unknown as ImportChangeView[]) : null,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
