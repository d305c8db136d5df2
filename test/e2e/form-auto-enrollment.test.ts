import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FormView } from '../../domain/schemas/form';
import { apiClient } from '../support/api-client';
import { eventually, startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let marketer: string;
const call = apiClient({ get baseUrl() { return stack.baseUrl; } }, () => marketer);

beforeAll(async () => {
  stack = await startTestStack();
  marketer = await stack.keyFor('marketer');
  await stack.startWorker();
});
afterAll(() => stack.close());

function submit(key: string, body: Record<string, unknown>) {
  return fetch(`${stack.baseUrl}/v1/forms/${key}/submissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'https://webinar.example.com' },
    body: JSON.stringify(body),
  });
}

describe('a form a marketer sets up over the API', () => {
  it('welcomes each submitter with its template and enrolls them in its sequence', async () => {
    const templates = [
      { key: 'webinar-welcome', channel: 'email', name: 'Webinar welcome', subject: 'You are in, {{default contact.firstName "friend"}}', html: '<p>See you at the webinar.</p>' },
      { key: 'webinar-slides', channel: 'email', name: 'Webinar slides', subject: 'The slides', html: '<p>Here are the slides.</p>' },
    ];
    for (const body of templates) expect((await call('POST', '/v1/templates', { body })).status).toBe(201);
    const sequence = await call<{ id: string }>('POST', '/v1/sequences', {
      body: {
        name: 'Webinar follow-up',
        publish: true,
        definition: { steps: [{ key: 'slides', type: 'email', template: 'webinar-slides' }, { key: 'pause', type: 'wait', duration: 'P7D' }, { key: 'again', type: 'email', template: 'webinar-slides' }] },
      },
    });
    expect(sequence.status).toBe(201);

    const form = await call<FormView>('POST', '/v1/forms', {
      body: {
        name: 'Webinar sign-up',
        allowedOrigins: ['https://webinar.example.com'],
        grantsEmailConsent: true,
        welcomeTemplate: 'webinar-welcome',
        enrollSequenceId: sequence.body.id,
      },
    });
    expect(form.status).toBe(201);

    const accepted = await submit(form.body.key, { email: 'ada@example.com', firstName: 'Ada', consent: true });
    expect(accepted.status).toBe(202);
    const { contactId } = (await accepted.json()) as { contactId: string };

    const [enrollment] = await eventually(() => stack.db.prisma.enrollment.findMany({ where: { contactId } }), (rows) => rows.length > 0);
    expect(enrollment).toMatchObject({
      sequenceId: sequence.body.id,
      status: 'active',
      source: 'form',
      sourceRef: form.body.key,
      sourceKey: `form:${form.body.key}:${contactId}`,
    });
    const sent = await eventually(
      () => stack.db.prisma.message.findMany({ where: { contactId }, orderBy: { createdAt: 'asc' } }),
      (messages) => messages.length === 2,
    );
    expect(sent.map((message) => [message.templateKey, message.subject])).toEqual([
      ['webinar-welcome', 'You are in, Ada'],
      ['webinar-slides', 'The slides'],
    ]);
  });
});
