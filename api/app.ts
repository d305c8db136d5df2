import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import { publicUrl } from '../runtime/config';
import type { ApiDeps } from './deps';
import { authenticate } from './middleware/auth';
import { idempotency } from './middleware/idempotency';
import { buildOpenApiDocument } from './openapi';
import { HttpProblem, sendProblem, toProblem } from './problem';
import { lifecycleRulesRouter, scoringRulesRouter } from './routes/automation-rules';
import { contactDuplicatesRouter } from './routes/contact-duplicates';
import { activitiesRouter } from './routes/activities';
import { companiesRouter } from './routes/companies';
import { contactsRouter } from './routes/contacts';
import { requiredFieldsRouter } from './routes/required-fields';
import { dealsRouter } from './routes/deals';
import { enrollmentsRouter } from './routes/enrollments';
import { eventsRouter } from './routes/events';
import { formManagementRouter } from './routes/form-management';
import { formsRouter } from './routes/forms';
import { importsRouter } from './routes/imports';
import { inboundEmailRouter } from './routes/inbound-email';
import { messagesRouter } from './routes/messages';
import { operationsRouter } from './routes/operations';
import { pipelinesRouter } from './routes/pipelines';
import { reportsRouter } from './routes/reports';
import { sequencesRouter } from './routes/sequences';
import { settingsRouter } from './routes/settings';
import { routingRulesRouter } from './routes/routing-rules';
import { tasksRouter } from './routes/tasks';
import { templatesRouter } from './routes/templates';
import { triggersRouter } from './routes/triggers';
import { unsubscribeRouter } from './routes/unsubscribe';
import { apiKeysRouter, usersRouter } from './routes/users';
import { webhookDeliveriesRouter } from './routes/webhook-deliveries';
import { sendGridWebhookRouter } from './routes/webhooks-sendgrid';
import { twilioWebhookRouter } from './routes/webhooks-twilio';
import { createWorkflowGateway } from './workflow-gateway';

export function createApp(deps: ApiDeps): express.Express {
  const { config, logger, metrics, prisma } = deps;
  const gateway = createWorkflowGateway(deps);
  const app = express();
  app.disable('x-powered-by');
  if (config.TRUST_PROXY) app.set('trust proxy', config.TRUST_PROXY);

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
      // One short line per request: the headers are in the metrics and traces, not worth logging.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: withoutUrlSecrets(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use((req, res, next) => {
    const stopTimer = metrics.httpRequestDuration.startTimer({ method: req.method });
    res.on('finish', () => stopTimer({ route: routeLabel(req), status: String(res.statusCode) }));
    next();
  });

  app.use(operationsRouter(deps));

  const openApiDocument = buildOpenApiDocument(publicUrl(config));
  app.get('/v1/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  // Swagger UI needs inline scripts; helmet's default CSP would block them on this page only.
  app.use('/docs', helmet({ contentSecurityPolicy: false }), swaggerUi.serve, swaggerUi.setup(openApiDocument, { customSiteTitle: 'Touchpoint API' }));

  app.use(helmet());
  app.use(requireJsonForWrites);
  // Provider webhooks and unsubscribe pages read their own bodies (signatures cover the raw
  // bytes; forms and multipart), so they come before the JSON parser. Each checks its own
  // signature or secret instead of an API key.
  app.use('/v1/webhooks/sendgrid/inbound', inboundEmailRouter(deps, gateway));
  app.use('/v1/webhooks/sendgrid', sendGridWebhookRouter(deps, gateway));
  app.use('/v1/webhooks/twilio', twilioWebhookRouter(deps));
  app.use('/u', unsubscribeRouter(deps, gateway));
  app.use(express.json({ limit: config.BODY_LIMIT, strict: true }));

  app.use('/v1/forms', formsRouter(deps, gateway));

  const authenticated = express.Router();
  authenticated.use(authenticate(prisma));
  authenticated.use(idempotency(prisma, (req) => `key:${req.principal?.apiKeyId ?? 'anonymous'}`));
  authenticated.use('/contacts', contactDuplicatesRouter(deps, gateway));
  authenticated.use('/contacts', contactsRouter(deps, gateway));
  authenticated.use('/companies', companiesRouter(deps));
  authenticated.use('/forms', formManagementRouter(deps));
  authenticated.use('/imports', importsRouter(deps, gateway));
  authenticated.use('/required-fields', requiredFieldsRouter(deps));
  authenticated.use('/tasks', tasksRouter(deps, gateway));
  authenticated.use('/pipelines', pipelinesRouter(deps, gateway));
  authenticated.use('/deals', dealsRouter(deps, gateway));
  authenticated.use('/activities', activitiesRouter(deps, gateway));
  authenticated.use('/reports', reportsRouter(deps));
  authenticated.use('/routing-rules', routingRulesRouter(deps));
  authenticated.use('/users', usersRouter(deps));
  authenticated.use('/api-keys', apiKeysRouter(deps));
  authenticated.use('/messages', messagesRouter(deps));
  authenticated.use('/templates', templatesRouter(deps));
  authenticated.use('/sequences', sequencesRouter(deps));
  authenticated.use(enrollmentsRouter(deps));
  authenticated.use('/events', eventsRouter(deps, gateway));
  authenticated.use('/scoring-rules', scoringRulesRouter(deps));
  authenticated.use('/lifecycle-rules', lifecycleRulesRouter(deps));
  authenticated.use('/settings', settingsRouter(deps));
  authenticated.use('/triggers', triggersRouter(deps));
  authenticated.use('/webhook-deliveries', webhookDeliveriesRouter(deps, gateway));
  app.use('/v1', authenticated);

  app.use((req: Request) => {
    throw new HttpProblem(404, 'not-found', 'Not found.', `There is no ${req.method} ${req.path}.`);
  });
  app.use(errorHandler);
  return app;
}

/** The Inbound Parse secret and unsubscribe tokens are credentials in the path: keep them out of logs. */
function withoutUrlSecrets(url: string): string {
  return url.replace(/^(\/v1\/webhooks\/sendgrid\/inbound\/|\/u\/)[^/?#]+/, '$1***');
}

/**
 * Bodies other than JSON, by path prefix: website forms may be URL-encoded (plain HTML forms),
 * Twilio posts form-encoded, Inbound Parse posts multipart. Unsubscribe accepts any body,
 * because a one-click unsubscribe must never fail on how a mail client encodes it.
 */
const otherBodyTypes: Array<{ prefix: string; types: string[] | 'any' }> = [
  { prefix: '/v1/forms/', types: ['application/json', 'application/x-www-form-urlencoded'] },
  { prefix: '/v1/webhooks/twilio/', types: ['application/x-www-form-urlencoded'] },
  // Inbound Parse checks the secret in its path first, so a wrong one is a 404 whatever the body.
  { prefix: '/v1/webhooks/sendgrid/inbound/', types: 'any' },
  { prefix: '/u/', types: 'any' },
  // The import itself is a CSV body (its route insists); cancelling it may carry an empty JSON body.
  { prefix: '/v1/imports', types: ['text/csv', 'application/json'] },
];

/** Everything else is JSON. */
function requireJsonForWrites(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody || !['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) return next();
  const rule = otherBodyTypes.find(({ prefix }) => req.path.startsWith(prefix));
  if (rule?.types === 'any') return next();
  const types = rule?.types ?? ['application/json'];
  if (req.is(types)) return next();
  const accepted = types.join(' or ');
  throw new HttpProblem(415, 'unsupported-media-type', 'Unsupported Content-Type.', `Send the body as ${accepted}.`, [
    { field: 'header.Content-Type', message: `must be ${accepted}` },
  ]);
}

const errorHandler: ErrorRequestHandler = (error: unknown, req, res, next) => {
  if (res.headersSent) return next(error);
  const mapped = toProblem(error) ?? fromBodyParser(error);
  if (mapped) {
    if (mapped.problem.status >= 500) req.log.error({ err: error }, 'request failed');
    sendProblem(res, mapped.problem, mapped.headers);
    return;
  }
  req.log.error({ err: error }, 'unhandled error');
  sendProblem(res, { type: '/problems/internal', title: 'Internal error.', status: 500, detail: `Something went wrong on our side; quote request id ${String(req.id)}.` });
};

function fromBodyParser(error: unknown) {
  const failure = error as { type?: string; status?: number; limit?: number; message?: string };
  if (failure.type === 'entity.parse.failed') {
    return { problem: { type: '/problems/malformed-json', title: 'Malformed JSON.', status: 400, detail: 'The body is not valid JSON.', errors: [{ field: '', message: failure.message ?? 'not valid JSON' }] }, headers: {} };
  }
  if (failure.type === 'entity.too.large') {
    return { problem: { type: '/problems/body-too-large', title: 'Body too large.', status: 413, detail: `The body is larger than the ${failure.limit ?? ''} byte limit.`.replace('  ', ' ') }, headers: {} };
  }
  if (typeof failure.status === 'number' && failure.status >= 400 && failure.status < 500) {
    return { problem: { type: '/problems/bad-request', title: 'Bad request.', status: failure.status, detail: failure.message ?? 'The request could not be read.' }, headers: {} };
  }
  return null;
}

function routeLabel(req: Request): string {
  const route = (req as Request & { route?: { path?: string } }).route?.path;
  return route ? `${req.baseUrl}${route}` : req.baseUrl || 'unmatched';
}
