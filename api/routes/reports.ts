import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import {
  ForecastQuerySchema,
  ForecastReportSchema,
  FunnelQuerySchema,
  FunnelReportSchema,
  LeadSourcesQuerySchema,
  LeadSourcesReportSchema,
  TimeInStageQuerySchema,
  TimeInStageReportSchema,
} from '../../domain/schemas/report';
import type { ApiDeps } from '../deps';
import { principalOf, requireRole } from '../middleware/auth';
import { jsonBody, problemResponses } from '../openapi-helpers';
import { dealScopeOf, ownerFilter } from '../services/deal-access';
import { forecastReport, funnelReport, leadSourcesReport, timeInStageReport } from '../services/reports';
import { parseQuery } from '../validate';

const readers = ['admin', 'sales_ops', 'manager', 'rep'] as const;
const scopeNote = 'Reps get their own numbers only; managers their own and their direct reports\' (or one of them with ownerId); sales ops and admins everyone\'s.';

export function registerReportDocs(registry: OpenAPIRegistry): void {
  const tags = ['Reports'];
  const reports = [
    ['forecast', ForecastQuerySchema, ForecastReportSchema, 'Weighted pipeline, commit and best case of open deals per currency, by expected close month and owner, with the rotting count'],
    ['funnel', FunnelQuerySchema, FunnelReportSchema, 'Stage-to-stage conversion of the deals created in a range, overall and by lead source'],
    ['time-in-stage', TimeInStageQuerySchema, TimeInStageReportSchema, 'Median and 90th percentile of the time deals spend in each open stage'],
    ['lead-sources', LeadSourcesQuerySchema, LeadSourcesReportSchema, 'Leads, conversions and won revenue (per currency) per lead source'],
  ] as const;
  for (const [path, query, result, summary] of reports) {
    registry.registerPath({
      method: 'get', path: `/v1/reports/${path}`, tags, summary, description: scopeNote,
      request: { query },
      responses: { 200: jsonBody('The report', result), ...problemResponses(400, 401, 403, 404) },
    });
  }
}

export function reportsRouter({ prisma }: ApiDeps): Router {
  const router = Router();
  /** The owners the caller's numbers cover (null: everyone). */
  const ownersFor = async (req: Request, requested: string | undefined) => {
    const principal = principalOf(req);
    return ownerFilter(await dealScopeOf(prisma, principal), principal, requested);
  };

  router.get('/forecast', requireRole(...readers), async (req, res) => {
    const query = parseQuery(ForecastQuerySchema, req);
    res.json(await forecastReport(prisma, query, await ownersFor(req, query.ownerId)));
  });

  router.get('/funnel', requireRole(...readers), async (req, res) => {
    const query = parseQuery(FunnelQuerySchema, req);
    res.json(await funnelReport(prisma, query, await ownersFor(req, query.ownerId)));
  });

  router.get('/time-in-stage', requireRole(...readers), async (req, res) => {
    const query = parseQuery(TimeInStageQuerySchema, req);
    res.json(await timeInStageReport(prisma, query, await ownersFor(req, query.ownerId)));
  });

  router.get('/lead-sources', requireRole(...readers), async (req, res) => {
    const query = parseQuery(LeadSourcesQuerySchema, req);
    res.json(await leadSourcesReport(prisma, query, await ownersFor(req, query.ownerId)));
  });

  return router;
}
