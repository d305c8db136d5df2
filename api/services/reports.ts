import { z } from 'zod';
import { NotFoundError } from '../../domain/errors';
import { forecast, type ForecastGroup } from '../../domain/forecast';
import { formatAmount, toHundredths } from '../../domain/money';
import { funnels, ratio, secondsToDays, type FurthestStageCount } from '../../domain/report-stats';
import type {
  ForecastQuery,
  ForecastReportSchema,
  FunnelQuery,
  FunnelReportSchema,
  LeadSourcesQuery,
  LeadSourcesReportSchema,
  TimeInStageQuery,
  TimeInStageReportSchema,
} from '../../domain/schemas/report';
import type { PrismaClient } from '../../runtime/prisma';
import { HttpProblem } from '../problem';

/**
 * The sales reports. PostgreSQL groups (GROUP BY, percentile_cont) and returns a few rows per
 * stage, owner, month or source; the maths on those rows lives in domain/forecast.ts and
 * domain/report-stats.ts. `owners` is the caller's owner filter (null: everyone), already
 * narrowed to what the caller may see.
 */

const defaultRangeDays = 90;

export async function forecastReport(prisma: PrismaClient, query: ForecastQuery, owners: string[] | null): Promise<z.infer<typeof ForecastReportSchema>> {
  const groups = await prisma.$queryRaw<Array<Omit<ForecastGroup, 'ownerId'> & { owner_id: string }>>`
    SELECT d.currency, to_char(d.expected_close_date, 'YYYY-MM') AS month, d.owner_id, s.probability,
           count(*)::int AS deals, (count(*) FILTER (WHERE d.rotting))::int AS rotting, COALESCE(sum(d.amount), 0)::text AS amount
      FROM deals d JOIN stages s ON s.id = d.stage_id
     WHERE d.status = 'open' AND d.deleted_at IS NULL
       AND (${query.pipelineId ?? null}::uuid IS NULL OR d.pipeline_id = ${query.pipelineId ?? null}::uuid)
       AND (${owners}::uuid[] IS NULL OR d.owner_id = ANY(${owners}::uuid[]))
       AND (${query.closeFrom ?? null}::date IS NULL OR d.expected_close_date >= ${query.closeFrom ?? null}::date)
       AND (${query.closeTo ?? null}::date IS NULL OR d.expected_close_date <= ${query.closeTo ?? null}::date)
     GROUP BY d.currency, month, d.owner_id, s.probability`;
  const names = await ownerNames(prisma, groups.map((group) => group.owner_id));
  const nameOf = (ownerId: string) => names.get(ownerId) ?? ownerId;
  const currencies = forecast(groups.map(({ owner_id, ...group }) => ({ ...group, ownerId: owner_id })), query.commitThreshold);
  return {
    commitThreshold: query.commitThreshold,
    asOf: new Date().toISOString(),
    currencies: currencies.map((currency) => ({
      ...currency,
      byOwner: currency.byOwner.map((row) => ({ ...row, ownerName: nameOf(row.ownerId) })),
      byMonthAndOwner: currency.byMonthAndOwner.map((row) => ({ ...row, ownerName: nameOf(row.ownerId) })),
    })),
  };
}

/**
 * Conversion between consecutive stages for the deals created in the range: each deal counts
 * for every stage up to the furthest open-or-won stage it ever entered (its stage changes and
 * its current stage), grouped by the lead source of its contact.
 */
export async function funnelReport(prisma: PrismaClient, query: FunnelQuery, owners: string[] | null): Promise<z.infer<typeof FunnelReportSchema>> {
  const { from, to } = rangeOf(query);
  const stages = await progressionStages(prisma, query.pipelineId, { includeWon: true });
  const counts = await prisma.$queryRaw<FurthestStageCount[]>`
    WITH cohort AS (
      SELECT d.id, d.stage_id, COALESCE(c.source, 'unknown') AS source
        FROM deals d LEFT JOIN contacts c ON c.id = d.contact_id
       WHERE d.pipeline_id = ${query.pipelineId}::uuid AND d.deleted_at IS NULL
         AND d.created_at >= ${from} AND d.created_at < ${to}
         AND (${owners}::uuid[] IS NULL OR d.owner_id = ANY(${owners}::uuid[]))
    ), entered AS (
      SELECT ch.deal_id, ch.to_stage_id AS stage_id FROM deal_stage_changes ch JOIN cohort ON cohort.id = ch.deal_id
      UNION ALL
      SELECT id, stage_id FROM cohort
    ), furthest AS (
      SELECT cohort.id, cohort.source, max(s.position) AS position
        FROM cohort
        JOIN entered e ON e.deal_id = cohort.id
        JOIN stages s ON s.id = e.stage_id AND s.archived_at IS NULL AND NOT s.is_lost
       GROUP BY cohort.id, cohort.source
    )
    SELECT source, position, count(*)::int AS deals FROM furthest GROUP BY source, position`;
  return { pipelineId: query.pipelineId, from: from.toISOString(), to: to.toISOString(), ...funnels(stages, counts) };
}

/**
 * How long deals stay in each open stage: a stay runs from a stage change into the stage to the
 * deal's next change. Stays that began in the range count; stays still going are left out
 * unless `includeOpen`, which counts them up to now.
 */
export async function timeInStageReport(prisma: PrismaClient, query: TimeInStageQuery, owners: string[] | null): Promise<z.infer<typeof TimeInStageReportSchema>> {
  const { from, to } = rangeOf(query);
  const now = new Date();
  const stages = await progressionStages(prisma, query.pipelineId, { includeWon: false });
  const rows = await prisma.$queryRaw<Array<{ stage_id: string; stays: number; median: number | null; p90: number | null }>>`
    WITH stays AS (
      SELECT ch.to_stage_id AS stage_id, ch.changed_at AS entered_at,
             lead(ch.changed_at) OVER (PARTITION BY ch.deal_id ORDER BY ch.changed_at, ch.from_stage_id IS NOT NULL, ch.id) AS left_at
        FROM deal_stage_changes ch JOIN deals d ON d.id = ch.deal_id
       WHERE d.pipeline_id = ${query.pipelineId}::uuid AND d.deleted_at IS NULL
         AND (${owners}::uuid[] IS NULL OR d.owner_id = ANY(${owners}::uuid[]))
         AND ch.changed_at >= ${from}
    ), measured AS (
      SELECT stage_id, extract(epoch FROM COALESCE(left_at, ${now}) - entered_at)::float8 AS seconds
        FROM stays
       WHERE entered_at < ${to} AND (left_at IS NOT NULL OR ${query.includeOpen})
    )
    SELECT stage_id, count(*)::int AS stays,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90
      FROM measured GROUP BY stage_id`;
  const byStage = new Map(rows.map((row) => [row.stage_id, row]));
  return {
    pipelineId: query.pipelineId,
    from: from.toISOString(),
    to: to.toISOString(),
    includeOpen: query.includeOpen,
    stages: stages.map((stage) => {
      const row = byStage.get(stage.id);
      const seconds = (value: number | null | undefined) => (value === null || value === undefined ? null : Math.round(value));
      return {
        stageId: stage.id,
        name: stage.name,
        stays: row?.stays ?? 0,
        medianSeconds: seconds(row?.median),
        p90Seconds: seconds(row?.p90),
        medianDays: row?.median == null ? null : secondsToDays(row.median),
        p90Days: row?.p90 == null ? null : secondsToDays(row.p90),
      };
    }),
  };
}

/**
 * Per lead source (contact.source): the contacts created in the range (leads), how many of
 * them converted (are or were customers, lifecycle customer/at_risk/churned, or have a won
 * deal), and the revenue of their won deals, per currency.
 */
export async function leadSourcesReport(prisma: PrismaClient, query: LeadSourcesQuery, owners: string[] | null): Promise<z.infer<typeof LeadSourcesReportSchema>> {
  const { from, to } = rangeOf(query);
  const [sources, revenue] = await prisma.$transaction([
    prisma.$queryRaw<Array<{ source: string; leads: number; conversions: number }>>`
      WITH leads AS (
        SELECT c.id, COALESCE(c.source, 'unknown') AS source, c.lifecycle_stage
          FROM contacts c
         WHERE c.deleted_at IS NULL AND c.created_at >= ${from} AND c.created_at < ${to}
           AND (${owners}::uuid[] IS NULL OR c.owner_id = ANY(${owners}::uuid[]))
      )
      SELECT l.source, count(*)::int AS leads,
             (count(*) FILTER (WHERE l.lifecycle_stage IN ('customer', 'at_risk', 'churned') OR EXISTS (
                SELECT 1 FROM deals d WHERE d.contact_id = l.id AND d.status = 'won' AND d.deleted_at IS NULL)))::int AS conversions
        FROM leads l GROUP BY l.source ORDER BY l.source`,
    prisma.$queryRaw<Array<{ source: string; currency: string; won_deals: number; amount: string }>>`
      SELECT COALESCE(c.source, 'unknown') AS source, d.currency, count(*)::int AS won_deals, COALESCE(sum(d.amount), 0)::text AS amount
        FROM contacts c JOIN deals d ON d.contact_id = c.id
       WHERE c.deleted_at IS NULL AND c.created_at >= ${from} AND c.created_at < ${to}
         AND (${owners}::uuid[] IS NULL OR c.owner_id = ANY(${owners}::uuid[]))
         AND d.status = 'won' AND d.deleted_at IS NULL
         AND (${owners}::uuid[] IS NULL OR d.owner_id = ANY(${owners}::uuid[]))
       GROUP BY 1, 2 ORDER BY 1, 2`,
  ]);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    sources: sources.map((row) => ({
      source: row.source,
      leads: row.leads,
      conversions: row.conversions,
      conversionRate: ratio(row.conversions, row.leads),
      revenue: revenue
        .filter((money) => money.source === row.source)
        .map((money) => ({ currency: money.currency, amount: formatAmount(toHundredths(money.amount), money.currency), wonDeals: money.won_deals })),
    })),
  };
}

/** The pipeline's live open stages in order, and its won stage last when asked for. */
async function progressionStages(prisma: PrismaClient, pipelineId: string, options: { includeWon: boolean }) {
  const pipeline = await prisma.pipeline.findUnique({
    where: { id: pipelineId },
    include: { stages: { where: { archivedAt: null, isLost: false, ...(options.includeWon ? {} : { isWon: false }) }, orderBy: { position: 'asc' } } },
  });
  if (!pipeline) throw new NotFoundError('Pipeline', pipelineId);
  return pipeline.stages.map((stage) => ({ id: stage.id, name: stage.name, position: stage.position }));
}

async function ownerNames(prisma: PrismaClient, ids: string[]): Promise<Map<string, string>> {
  const users = await prisma.user.findMany({ where: { id: { in: [...new Set(ids)] } }, select: { id: true, name: true } });
  return new Map(users.map((user) => [user.id, user.name]));
}

function rangeOf(query: { from?: Date | undefined; to?: Date | undefined }): { from: Date; to: Date } {
  const to = query.to ?? new Date();
  const from = query.from ?? new Date(to.getTime() - defaultRangeDays * 86_400_000);
  if (from >= to) {
    throw new HttpProblem(400, 'invalid-parameters', 'Invalid query parameters.', 'The range is empty.', [{ field: 'query.from', message: 'must be before `to`' }]);
  }
  return { from, to };
}
