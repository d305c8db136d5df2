import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { registerTriggerDocs } from './routes/triggers';
import { registerWebhookDeliveryDocs } from './routes/webhook-deliveries';
import { registerAutomationRuleDocs } from './routes/automation-rules';
import { registerContactDuplicateDocs } from './routes/contact-duplicates';
import { registerActivityDocs } from './routes/activities';
import { registerContactDocs } from './routes/contacts';
import { registerCompanyDocs } from './routes/companies';
import { registerRequiredFieldDocs } from './routes/required-fields';
import { registerDealDocs } from './routes/deals';
import { registerEnrollmentDocs } from './routes/enrollments';
import { registerEventDocs } from './routes/events';
import { registerFormManagementDocs } from './routes/form-management';
import { registerFormDocs } from './routes/forms';
import { registerImportDocs } from './routes/imports';
import { registerInboundEmailDocs } from './routes/inbound-email';
import { registerMessageDocs } from './routes/messages';
import { registerPipelineDocs } from './routes/pipelines';
import { registerReportDocs } from './routes/reports';
import { registerSequenceDocs } from './routes/sequences';
import { registerSettingsDocs } from './routes/settings';
import { registerRoutingRuleDocs } from './routes/routing-rules';
import { registerTaskDocs } from './routes/tasks';
import { registerTemplateDocs } from './routes/templates';
import { registerUnsubscribeDocs } from './routes/unsubscribe';
import { registerUserDocs } from './routes/users';
import { registerSendGridWebhookDocs } from './routes/webhooks-sendgrid';
import { registerTwilioWebhookDocs } from './routes/webhooks-twilio';

/** The OpenAPI 3.1 document, built from the same zod schemas that validate requests. */
export function buildOpenApiDocument(serverUrl: string) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'API key created with `POST /v1/users/{id}/api-keys` or `npm run api-key:create`; its role decides what it may do.',
  });
  registerFormDocs(registry);
  registerFormManagementDocs(registry);
  registerContactDocs(registry);
  registerImportDocs(registry);
  registerContactDuplicateDocs(registry);
  registerCompanyDocs(registry);
  registerRequiredFieldDocs(registry);
  registerTaskDocs(registry);
  registerPipelineDocs(registry);
  registerDealDocs(registry);
  registerActivityDocs(registry);
  registerReportDocs(registry);
  registerRoutingRuleDocs(registry);
  registerUserDocs(registry);
  registerMessageDocs(registry);
  registerTemplateDocs(registry);
  registerSequenceDocs(registry);
  registerEnrollmentDocs(registry);
  registerEventDocs(registry);
  registerAutomationRuleDocs(registry);
  registerSettingsDocs(registry);
  registerTriggerDocs(registry);
  registerWebhookDeliveryDocs(registry);
  registerSendGridWebhookDocs(registry);
  registerTwilioWebhookDocs(registry);
  registerInboundEmailDocs(registry);
  registerUnsubscribeDocs(registry);
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Touchpoint API',
      version: '1.0.0',
      description: 'CRM automation: contacts, tasks and messages, with every automation a durable Temporal workflow. Errors are RFC 9457 application/problem+json with a field-level `errors` list. Every write accepts an `Idempotency-Key` header.',
    },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
  });
  // The website form endpoint is public: it is identified by its form key, not an API key.
  const formPath = document.paths?.['/v1/forms/{formKey}/submissions']?.post;
  if (formPath) formPath.security = [];
  return document;
}
