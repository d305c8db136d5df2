import cors from 'cors';
import express, { Router, type Request } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { ValidationError } from '../../domain/errors';
import { FormKeySchema } from '../../domain/schemas/form';
import { FormSubmissionBodySchema, parseFormSubmission, type FormRules } from '../../domain/schemas/form-submission';
import type { ApiDeps } from '../deps';
import { idempotency } from '../middleware/idempotency';
import { PostgresRateLimitStore } from '../middleware/postgres-rate-limit-store';
import { HttpProblem, ProblemSchema } from '../problem';
import { recordFormSubmission } from '../services/form-intake';
import type { WorkflowGateway } from '../workflow-gateway';

const FormKeyParams = z.object({ formKey: FormKeySchema });
const SubmissionAcceptedSchema = z
  .object({ status: z.literal('accepted'), contactId: z.uuid().optional() })
  .meta({ id: 'SubmissionAccepted' });

export function registerFormDocs(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/forms/{formKey}/submissions',
    tags: ['Website'],
    summary: 'Submit a website form (public; identified by the form key)',
    description:
      'Validates and normalises the submission, finds or creates the contact, records a form_submitted activity and starts or signals the contact lifecycle workflow. Rate-limited per client IP; CORS per the form\'s allowed origins; a filled honeypot field is accepted and dropped.',
    request: {
      params: FormKeyParams,
      headers: z.object({ 'Idempotency-Key': z.string().optional() }),
      body: {
        content: {
          'application/json': { schema: FormSubmissionBodySchema },
          'application/x-www-form-urlencoded': { schema: FormSubmissionBodySchema },
        },
      },
    },
    responses: {
      202: { description: 'Accepted; automation continues in the background', content: { 'application/json': { schema: SubmissionAcceptedSchema } } },
      403: { description: 'Origin not allowed for this form', content: { 'application/problem+json': { schema: ProblemSchema } } },
      404: { description: 'Unknown or inactive form', content: { 'application/problem+json': { schema: ProblemSchema } } },
      422: { description: 'Invalid fields', content: { 'application/problem+json': { schema: ProblemSchema } } },
      429: { description: 'Too many submissions from this address', content: { 'application/problem+json': { schema: ProblemSchema } } },
    },
  });
}

export function formsRouter(deps: ApiDeps, gateway: WorkflowGateway): Router {
  const { prisma, config } = deps;
  const router = Router();

  // The CORS check and the handler both need the form: one query per request, not two.
  const formOfRequest = new WeakMap<Request, ReturnType<typeof readForm>>();
  function loadForm(req: Request): ReturnType<typeof readForm> {
    let form = formOfRequest.get(req);
    if (!form) {
      form = readForm(req);
      formOfRequest.set(req, form);
    }
    return form;
  }

  async function readForm(req: Request) {
    const params = FormKeyParams.safeParse(req.params);
    if (!params.success) throw new HttpProblem(404, 'not-found', 'Not found.', 'There is no active form with this key.');
    const form = await prisma.form.findUnique({ where: { key: params.data.formKey } });
    if (!form || !form.active) throw new HttpProblem(404, 'not-found', 'Not found.', 'There is no active form with this key.');
    return form;
  }

  // Each form names the sites allowed to post it; anything else gets no CORS grant.
  const formCors = cors<Request>((req, callback) => {
    loadForm(req).then(
      (form) => callback(null, { origin: form.allowedOrigins, methods: ['POST'], allowedHeaders: ['Content-Type', 'Idempotency-Key'], maxAge: 600 }),
      () => callback(null, { origin: false }),
    );
  });

  const limiter = rateLimit({
    windowMs: 60_000,
    limit: config.FORM_RATE_LIMIT_PER_MINUTE,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store: new PostgresRateLimitStore(prisma, 'form-ip:'),
    handler: (_req, _res, next, options) => {
      next(new HttpProblem(429, 'rate-limited', 'Too many requests.', `At most ${options.limit} submissions per minute from one address.`, undefined, {
        'Retry-After': String(Math.ceil(options.windowMs / 1000)),
      }));
    },
  });

  router.options('/:formKey/submissions', formCors);
  router.post(
    '/:formKey/submissions',
    formCors,
    limiter,
    express.urlencoded({ extended: false, limit: config.BODY_LIMIT }),
    idempotency(prisma, (req) => `form:${String(req.params.formKey)}`),
    async (req, res) => {
      const form = await loadForm(req);
      const origin = req.get('origin');
      if (origin && !form.allowedOrigins.includes(origin)) {
        throw new HttpProblem(403, 'origin-not-allowed', 'Origin not allowed.', `This form does not accept submissions from ${origin}.`);
      }
      const rules: FormRules = {
        key: form.key,
        defaultCountry: form.defaultCountry,
        contactRequirement: form.contactRequirement as FormRules['contactRequirement'],
        requiredFields: form.requiredFields,
        allowCustomFields: form.allowCustomFields,
        honeypotField: form.honeypotField,
      };
      const parsed = parseFormSubmission(rules, req.body);
      if (!parsed.ok) throw new ValidationError(parsed.errors);
      // Bots get the same answer as people, so the honeypot does not teach them anything.
      if (parsed.value.isSpam) {
        req.log.info({ formKey: form.key }, 'honeypot submission dropped');
        res.status(202).json({ status: 'accepted' });
        return;
      }
      const recorded = await recordFormSubmission(prisma, form, parsed.value);
      await gateway.signalFormSubmitted(recorded.contactId, recorded.lifecycleStage, {
        activityId: recorded.activityId,
        formKey: form.key,
        welcomeTemplate: form.welcomeTemplate,
        enrollSequenceId: form.enrollSequenceId,
      });
      res.status(202).json({ status: 'accepted', contactId: recorded.contactId });
    },
  );
  return router;
}
