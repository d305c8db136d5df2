import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pino from 'pino';
import { createActivities } from '../../activities';
import { CaptureEmailProvider } from '../../activities/providers/capture-email';
import type { EmailProvider } from '../../activities/providers/email-provider';
import { SendGridEmailProvider } from '../../activities/providers/sendgrid-email';
import { TemplateRenderer, templatesRoot } from '../../activities/templates';
import { seedDemoData } from '../../prisma/seed';
import { migrateDatabase } from '../../runtime/migrate';
import { createPrisma, type PrismaClient } from '../../runtime/prisma';
import { startSendGridFake } from '../../test/fakes/sendgrid-fake';
import { closedLoop, type PassResult } from '../lib/load';
import { envInt, type Scenario, type ScenarioContext } from '../lib/scenario';
import { createScratchDatabase, defaultAdminDatabaseUrl } from '../lib/stack';
import { round } from '../lib/stats';
import { printTable } from '../lib/table';

const sender = { company: 'Touchpoint', postalAddress: '1 Example Street, Springfield' };

/**
 * `send`: the messaging activity on its own (render, outbox row, provider call, status), for N
 * contacts, through the capture provider and through the SendGrid fake with the official client.
 * Baseline, same run: rendering the same template alone.
 */
export const scenario: Scenario = {
  name: 'send',
  description: 'render + outbox + send of N emails (capture, SendGrid fake) against rendering alone',
  async run(ctx: ScenarioContext) {
    const n = envInt(ctx.env, 'BENCH_N', 2000, 10, 100_000);
    const concurrency = envInt(ctx.env, 'BENCH_CONCURRENCY', 16, 1, 256);
    const deadlineMs = envInt(ctx.env, 'BENCH_MAX_SECONDS', 300, 10, 3600) * 1000;

    const adminUrl = ctx.env.BENCH_ADMIN_DATABASE_URL || defaultAdminDatabaseUrl;
    const database = await createScratchDatabase(adminUrl, ctx.log);
    if (!database) throw new Error(`the send scenario needs a PostgreSQL server at ${adminUrl} (BENCH_ADMIN_DATABASE_URL)`);
    ctx.defer(database.drop);
    ctx.log(`migrating ${database.name}`);
    await migrateDatabase(database.url);
    const prisma = createPrisma(database.url, { poolSize: concurrency + 4 });
    ctx.defer(() => prisma.$disconnect());
    await seedDemoData(prisma);
    const contactIds = await createContacts(prisma, n);

    const templates = new TemplateRenderer(templatesRoot, prisma, { sender });
    const context = { contact: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' }, owner: { name: 'Rita Rep', email: 'rita@example.com' }, sender: { company: sender.company } };
    await templates.renderEmail('welcome', context);
    ctx.log(`baseline: rendering the welcome template ${n} times`);
    const baseline = await closedLoop({ count: n, concurrency, deadlineMs, signal: ctx.signal, operation: async () => (await templates.renderEmail('welcome', context), null) });

    const run = async (label: string, provider: EmailProvider): Promise<PassResult> => {
      const activities = createActivities({
        prisma,
        logger: pino({ level: 'silent' }),
        emailProvider: provider,
        templates,
        emailFrom: { address: 'hello@example.com', name: sender.company },
        publicUrl: 'http://localhost:3000',
      });
      ctx.log(`${label}: ${n} sends at concurrency ${concurrency}`);
      return closedLoop({
        count: n,
        concurrency,
        deadlineMs,
        signal: ctx.signal,
        operation: async (i) => {
          const outcome = await activities.sendTemplatedEmail({ idempotencyKey: `bench:${label}:${i}`, contactId: contactIds[i]!, templateKey: 'welcome', transactional: true });
          return outcome.status === 'accepted' ? null : `outcome ${outcome.status}`;
        },
      });
    };

    const capture = await run('capture', new CaptureEmailProvider());
    const apiKey = `SG.bench.${randomBytes(8).toString('hex')}`;
    const fake = await startSendGridFake({ apiKey });
    ctx.defer(() => fake.close());
    const sendgrid = await run('sendgrid', new SendGridEmailProvider({ apiKey, baseUrl: fake.url, timeoutMs: 20_000 }));
    const atFake = fake.received().length;

    const row = (label: string, pass: PassResult) => [label, pass.ok, pass.errors, round(pass.rate), round(pass.latency.p50Ms), round(pass.latency.p99Ms)];
    printTable(['pass', 'count', 'errors', 'rate/s', 'p50 ms', 'p99 ms'], [
      row('baseline: render only', baseline),
      row('send through capture', capture),
      row('send through SendGrid fake (official client)', sendgrid),
    ]);
    console.log(`messages at the SendGrid fake: ${atFake} of ${n} (exactly once: ${atFake === sendgrid.ok ? 'yes' : 'NO'})`);
    console.log(`ratio capture/render: ${round(capture.rate / baseline.rate, 3)}, SendGrid/render: ${round(sendgrid.rate / baseline.rate, 3)}`);

    return {
      scenario: 'send',
      n,
      concurrency,
      capture: { messagesPerSecond: round(capture.rate), p50Ms: round(capture.latency.p50Ms), p99Ms: round(capture.latency.p99Ms), errors: capture.errors },
      sendgrid: { messagesPerSecond: round(sendgrid.rate), p50Ms: round(sendgrid.latency.p50Ms), p99Ms: round(sendgrid.latency.p99Ms), errors: sendgrid.errors, atFake },
      baseline: { rendersPerSecond: round(baseline.rate), p50Ms: round(baseline.latency.p50Ms, 2), p99Ms: round(baseline.latency.p99Ms, 2) },
      ratio: round(capture.rate / baseline.rate, 3),
      ratioSendgrid: round(sendgrid.rate / baseline.rate, 3),
      machine: { cpus: os.cpus().length, node: process.version, loadAverage1m: round(os.loadavg()[0] ?? 0, 2) },
    };
  },
};

async function createContacts(prisma: PrismaClient, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < n; start += 500) {
    const batch = Array.from({ length: Math.min(500, n - start) }, (_, i) => ({ id: crypto.randomUUID(), address: `send-${start + i}@example.com` }));
    await prisma.contact.createMany({ data: batch.map(({ id }) => ({ id, firstName: 'Bench' })) });
    await prisma.contactEmail.createMany({ data: batch.map(({ id, address }) => ({ contactId: id, address, isPrimary: true })) });
    ids.push(...batch.map(({ id }) => id));
  }
  return ids;
}
