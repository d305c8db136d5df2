import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import pino from 'pino';
import { createActivities } from '../../activities';
import { CaptureEmailProvider } from '../../activities/providers/capture-email';
import { CaptureSmsProvider } from '../../activities/providers/capture-sms';
import { TemplateRenderer } from '../../activities/templates';
import { resolveTemporalTestServer } from '../../runtime/temporal-binaries';
import { templatesRoot } from '../../runtime/worker';
import type { TestDatabase } from './database';
import { eventually } from './stack';
import { requireTestEnv } from './test-env';

/** The time-skipping test server, with the custom search attributes the contact workflow sets. */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: resolveTemporalTestServer() } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: { ContactId: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, LifecycleStage: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
  });
  return env;
}

type ActivityDepsOverrides = Partial<Parameters<typeof createActivities>[0]>;

/**
 * A worker on `taskQueue` running the real activities against `db`, with capture providers
 * instead of SendGrid and Twilio, in the background until `stop`.
 */
export async function startCaptureWorker(env: TestWorkflowEnvironment, db: TestDatabase, taskQueue: string, overrides: ActivityDepsOverrides = {}): Promise<{ stop(): Promise<void> }> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: requireTestEnv('workflowBundle') },
    activities: createActivities({
      prisma: db.prisma,
      logger: pino({ level: 'silent' }),
      emailProvider: new CaptureEmailProvider(),
      smsProvider: new CaptureSmsProvider('+15005550006'),
      templates: new TemplateRenderer(templatesRoot, db.prisma, { sender: { company: 'Touchpoint', postalAddress: '1 Example Street' } }),
      emailFrom: { address: 'hello@example.com', name: 'Touchpoint' },
      publicUrl: 'https://crm.example.com',
      unsubscribe: { UNSUBSCRIBE_SECRET: 'sequence-test-secret-0123456789abcdef', PUBLIC_URL: 'https://crm.example.com', PORT: 3000, EMAIL_FROM: 'hello@example.com' },
      ...overrides,
    }),
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

/**
 * Waits until a workflow has closed without letting the server skip time. The time-skipping
 * client's `result()` unlocks skipping while it waits; when the workflow still has activities to
 * run, a loaded machine lets the server skip past them (their timeouts fire, retries follow) and
 * the test stalls. For workflows with no timer left to fire, polling is enough and never skips.
 */
export async function closedWithoutSkipping(handle: Pick<WorkflowHandle, 'describe'>, timeoutMs = 20_000): Promise<void> {
  await eventually(async () => (await handle.describe()).status.name, (status) => status !== 'RUNNING', timeoutMs);
}

/**
 * Waits until the latest run of a workflow sits idle on a timer, read from its history. A query
 * would do on a settled run, but the time-skipping server can leave a query unanswered for good
 * when it lands while the run is continuing as new; the history never involves the worker.
 */
export async function idleOnTimer(client: TestWorkflowEnvironment['client'], workflowId: string, timeoutMs = 20_000): Promise<void> {
  const lastEventType = async () => (await client.workflow.getHandle(workflowId).fetchHistory()).events?.at(-1)?.eventType;
  await eventually(lastEventType, (type) => type === temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_STARTED, timeoutMs);
}

/**
 * A query, each attempt bounded and sent again: under load the time-skipping server can leave a
 * query unanswered, and an unbounded one would hold a test past its timeout (and outlive the
 * connection, failing the file at teardown).
 */
export async function answered<T>(client: TestWorkflowEnvironment['client'], query: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await client.withDeadline(Date.now() + 5_000, query);
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}
