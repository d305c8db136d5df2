import { NotFoundError } from '../../domain/errors';
import { enclosingArms, locateSteps } from '../../domain/sequence-tree';
import type { SequenceDefinition } from '../../domain/schemas/sequence';
import { goalStopReasons, type MessageCounts, type SequenceStats, type SequenceVersionStats } from '../../domain/schemas/sequence-views';
import { Prisma, type PrismaClient } from '../../runtime/prisma';

/**
 * Per version, step and split variant: what the sequence did and what came of it. Four
 * aggregate queries, each grouped by version and step, however many steps there are:
 * enrollments (where they stand, how they ended), step executions (by outcome), the messages
 * the steps sent (their delivery facts and replies), and the variants enrollments were put in.
 */
export async function sequenceStats(prisma: PrismaClient, sequenceId: string, onlyVersion?: number): Promise<SequenceStats> {
  const sequence = await prisma.sequence.findUnique({ where: { id: sequenceId }, select: { id: true } });
  if (!sequence) throw new NotFoundError('Sequence', sequenceId);
  const versions = await prisma.sequenceVersion.findMany({
    where: { sequenceId, ...(onlyVersion !== undefined ? { version: onlyVersion } : { status: 'published' }) },
    orderBy: { version: 'desc' },
    select: { version: true, definition: true, publishedAt: true },
  });
  if (onlyVersion !== undefined && versions.length === 0) throw new NotFoundError('Sequence version', `${sequenceId} v${onlyVersion}`);
  const version = onlyVersion === undefined ? Prisma.empty : Prisma.sql`AND version = ${onlyVersion}`;
  const stepVersion = onlyVersion === undefined ? Prisma.empty : Prisma.sql`AND s.version = ${onlyVersion}`;

  const [enrollments, executions, messages, variants] = await Promise.all([
    prisma.$queryRaw<Array<{ version: number; step: string | null; status: string; stop_reason: string | null; converted: boolean; n: number }>>`
      SELECT version, current_step_key AS step, status::text AS status, stop_reason, converted, count(*)::int AS n
        FROM enrollments
       WHERE sequence_id = ${sequenceId}::uuid ${version}
       GROUP BY 1, 2, 3, 4, 5`,
    prisma.$queryRaw<Array<{ version: number; step: string; outcome: string | null; n: number; enrollments: number }>>`
      SELECT version, step_key AS step, CASE WHEN GROUPING(outcome) = 0 THEN outcome END AS outcome,
             count(*)::int AS n, count(DISTINCT enrollment_id)::int AS enrollments
        FROM enrollment_steps
       WHERE sequence_id = ${sequenceId}::uuid ${version}
       GROUP BY GROUPING SETS ((version, step_key, outcome), (version, step_key))`,
    // The facts are the ones branch conditions read (domain/conditions.ts messageFactsFrom): a
    // click implies an open, an open or a reply implies delivery; statuses the message passed
    // (status_history and its status now) and the provider events recorded for it both count.
    prisma.$queryRaw<Array<{ version: number; step: string } & Omit<MessageCounts, 'sent'>>>`
      SELECT s.version, s.step_key AS step,
             count(*) FILTER (WHERE f.clicked OR f.opened OR f.replied OR f.seen && '{delivered}')::int AS delivered,
             count(*) FILTER (WHERE f.clicked OR f.opened)::int AS opened,
             count(*) FILTER (WHERE f.clicked)::int AS clicked,
             count(*) FILTER (WHERE f.replied)::int AS replied,
             count(*) FILTER (WHERE f.seen && '{bounced,bounce}')::int AS bounced,
             count(*) FILTER (WHERE f.seen && '{unsubscribed,spam_reported,unsubscribe,group_unsubscribe,spamreport}')::int AS unsubscribed
        FROM enrollment_steps s
        JOIN messages m ON m.id = s.message_id
        CROSS JOIN LATERAL (
          SELECT seen, seen && '{clicked,click}' AS clicked, seen && '{opened,open}' AS opened,
                 EXISTS (SELECT 1 FROM activities a
                          WHERE a.contact_id = m.contact_id AND a.type = 'email'
                            AND a.data ->> 'direction' = 'inbound' AND a.data ->> 'messageId' = m.id::text
                            AND COALESCE((a.data ->> 'autoReply')::boolean, false) = false) AS replied
            FROM (SELECT ARRAY(SELECT h ->> 'status' FROM jsonb_array_elements(m.status_history) h WHERE h ->> 'status' IS NOT NULL)
                         || ARRAY(SELECT e.event FROM message_events e WHERE e.message_id = m.id)
                         || m.status::text AS seen) statuses
        ) f
       WHERE s.sequence_id = ${sequenceId}::uuid AND s.message_id IS NOT NULL ${stepVersion}
       GROUP BY 1, 2`,
    prisma.$queryRaw<Array<{ version: number; step: string; variant: string; status: string; stop_reason: string | null; converted: boolean; n: number }>>`
      SELECT s.version, s.step_key AS step, s.variant, e.status::text AS status, e.stop_reason, e.converted, count(DISTINCT e.id)::int AS n
        FROM enrollment_steps s
        JOIN enrollments e ON e.id = s.enrollment_id
       WHERE s.sequence_id = ${sequenceId}::uuid AND s.outcome = 'variant' AND s.variant IS NOT NULL ${stepVersion}
       GROUP BY 1, 2, 3, 4, 5, 6`,
  ]);

  return {
    sequenceId,
    generatedAt: new Date().toISOString(),
    versions: versions.map(({ version: number, definition, publishedAt }) =>
      versionStats(number, definition as unknown as SequenceDefinition, publishedAt, {
        enrollments: enrollments.filter((row) => row.version === number),
        executions: executions.filter((row) => row.version === number),
        messages: messages.filter((row) => row.version === number),
        variants: variants.filter((row) => row.version === number),
      }),
    ),
  };
}

interface EnrollmentGroup {
  status: string;
  stop_reason: string | null;
  converted: boolean;
  n: number;
}

interface VersionRows {
  enrollments: Array<EnrollmentGroup & { step: string | null }>;
  executions: Array<{ step: string; outcome: string | null; n: number; enrollments: number }>;
  messages: Array<{ step: string } & Omit<MessageCounts, 'sent'>>;
  variants: Array<EnrollmentGroup & { step: string; variant: string }>;
}

function versionStats(version: number, definition: SequenceDefinition, publishedAt: Date | null, rows: VersionRows): SequenceVersionStats {
  const located = locateSteps(definition.steps);
  const steps = located.map(({ step, path }) => {
    const executions = rows.executions.filter((row) => row.step === step.key);
    const outcomes = Object.fromEntries(executions.flatMap((row) => (row.outcome === null ? [] : [[row.outcome, row.n]])));
    const facts = rows.messages.find((row) => row.step === step.key);
    const here = rows.enrollments.filter((row) => row.step === step.key);
    return {
      key: step.key,
      type: step.type,
      path,
      entered: executions.find((row) => row.outcome === null)?.enrollments ?? 0,
      outcomes,
      current: sum(here.filter(isLive)),
      stopReasons: byStopReason(here),
      sent: outcomes.sent ?? 0,
      delivered: facts?.delivered ?? 0,
      opened: facts?.opened ?? 0,
      clicked: facts?.clicked ?? 0,
      replied: facts?.replied ?? 0,
      bounced: facts?.bounced ?? 0,
      unsubscribed: facts?.unsubscribed ?? 0,
    };
  });
  const totals = (keys: ReadonlySet<string>): MessageCounts => {
    const counted = steps.filter((step) => keys.has(step.key));
    const total = (field: keyof MessageCounts) => counted.reduce((acc, step) => acc + step[field], 0);
    return { sent: total('sent'), delivered: total('delivered'), opened: total('opened'), clicked: total('clicked'), replied: total('replied'), bounced: total('bounced'), unsubscribed: total('unsubscribed') };
  };

  const variants = located.flatMap(({ step }) => {
    if (step.type !== 'split') return [];
    return step.variants.map((variant) => {
      const groups = rows.variants.filter((row) => row.step === step.key && row.variant === variant.key);
      const inside = new Set(located.filter((entry) => enclosingArms(entry).some(({ owner, arm }) => owner.step === step && arm === variant.key)).map((entry) => entry.step.key));
      const { enrolled: entered, ...outcome } = outcomeCounts(groups);
      return { split: step.key, variant: variant.key, percent: variant.percent, entered, ...outcome, messages: totals(inside) };
    });
  });

  return {
    version,
    publishedAt: publishedAt?.toISOString() ?? null,
    ...outcomeCounts(rows.enrollments),
    messages: totals(new Set(steps.map((step) => step.key))),
    steps,
    variants,
  };
}

function outcomeCounts(groups: EnrollmentGroup[]) {
  const enrolled = sum(groups);
  const converted = sum(groups.filter((group) => group.converted));
  return {
    enrolled,
    active: sum(groups.filter(isLive)),
    completed: sum(groups.filter((group) => group.status === 'completed')),
    exited: sum(groups.filter((group) => group.status === 'exited')),
    exitedByGoal: sum(groups.filter((group) => group.stop_reason !== null && goalStopReasons.has(group.stop_reason))),
    stopReasons: byStopReason(groups),
    converted,
    conversionRate: enrolled === 0 ? 0 : Math.round((converted / enrolled) * 10_000) / 10_000,
  };
}

function isLive(group: EnrollmentGroup): boolean {
  return group.status === 'active' || group.status === 'paused';
}

function sum(groups: Array<{ n: number }>): number {
  return groups.reduce((acc, group) => acc + group.n, 0);
}

function byStopReason(groups: EnrollmentGroup[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const group of groups) if (group.stop_reason !== null && !isLive(group)) counts[group.stop_reason] = (counts[group.stop_reason] ?? 0) + group.n;
  return counts;
}
