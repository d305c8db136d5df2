import type { Logger } from 'pino';
import type { PrismaClient } from '../runtime/prisma';
import type { EmailProvider } from './providers/email-provider';
import type { TemplateRenderer } from './templates';

/** Everything activities touch, injected once when the worker starts (and by tests). */
export interface ActivityDeps {
  prisma: PrismaClient;
  logger: Logger;
  emailProvider: EmailProvider;
  templates: TemplateRenderer;
  emailFrom: { address: string; name: string };
  publicUrl: string;
}
