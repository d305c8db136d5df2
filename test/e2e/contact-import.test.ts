import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ImportView } from '../../domain/schemas/import';
import { contactImport } from '../../workflows/contact-import';
import { importWorkflowId } from '../../workflows/workflow-ids';
import { stopChild } from '../../runtime/temporal-dev-server';
import { recordHistory } from '../support/histories';
import { eventually, startTestStack, type RunningWorker, type TestStack } from '../support/stack';
import { startWorkerProcess as startWorkerProcessFor } from '../support/worker-process';

let stack: TestStack;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  // Small batches, so that these small files still run in several batches.
  stack = await startTestStack({ IMPORT_BATCH_ROWS: '3' });
  worker = await stack.startWorker();
}, 60_000);
afterAll(() => stack.close());

type Query = Record<string, string | string[]>;

function upload(csv: string | Buffer, query: Query = {}, headers: Record<string, string> = {}) {
  const url = new URL('/v1/imports', stack.baseUrl);
  for (const [name, value] of Object.entries(query)) for (const item of [value].flat()) url.searchParams.append(name, item);
  return fetch(url, { method: 'POST', headers: { authorization: `Bearer ${stack.keys.admin}`, 'content-type': 'text/csv', ...headers }, body: csv });
}

async function startImport(csv: string, query: Query = {}): Promise<ImportView> {
  const res = await upload(csv, query);
  const body = (await res.json()) as ImportView;
  expect(res.status).toBe(202);
  expect(res.headers.get('location')).toBe(`/v1/imports/${body.id}`);
  return body;
}

async function getImport(id: string): Promise<ImportView> {
  const res = await fetch(`${stack.baseUrl}/v1/imports/${id}`, { headers: { authorization: `Bearer ${stack.keys.admin}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as ImportView;
}

function finished(id: string, timeoutMs = 30_000): Promise<ImportView> {
  return eventually(() => getImport(id), (view) => ['completed', 'failed', 'cancelled'].includes(view.status), timeoutMs);
}

async function importFile(csv: string, query: Query = {}): Promise<ImportView> {
  return finished((await startImport(csv, query)).id);
}

async function report(id: string): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/v1/imports/${id}/report`, { headers: { authorization: `Bearer ${stack.keys.admin}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  return Buffer.from(await res.arrayBuffer()).toString('utf8');
}

/** The contacts an import created, from its audit entries (one per batch). */
async function createdByImport(importId: string): Promise<Array<{ line: number; contactId: string }>> {
  const entries = await stack.db.prisma.auditLog.findMany({ where: { actorType: 'import', actorId: importId, action: 'import.contacts_created' } });
  return entries.flatMap((entry) => (entry.after as { contacts: Array<{ line: number; contactId: string }> }).contacts);
}

function contactByEmail(address: string) {
  return stack.db.prisma.contact.findFirst({
    where: { emails: { some: { address } }, deletedAt: null },
    include: { emails: { orderBy: [{ isPrimary: 'desc' }, { createdAt: 'asc' }] }, phones: true, company: true, consents: true },
  });
}

describe('POST /v1/imports', () => {
  it('imports the valid rows, counts every row once and reports each rejected row with its line, column, reason and value', async () => {
    const csv = [
      'E-mail,First Name,Last Name,Mobile,Company,Country',
      'ADA@Example.com,ada,LOVELACE,020 7946 0958,"Analytical Engines, Ltd",GB',
      'grace@example.com,Grace,Hopper,,,',
      'not-an-email,Bad,Row,,,',
      ',No,Address,,,',
      'alan@example.com,Alan,Turing,030 901820,,Deutschland',
      'grace@example.com,,,+1 415 555 0102,,',
      'edsger@example.com,Edsger,Dijkstra,12345,,Atlantis',
      '"multi@example.com","Multi',
      'Line",Name,,,',
      'ada@example.com,Ada,,,,',
      'extra@example.com,Extra,Field,,,,surprise',
    ].join('\n');
    const done = await importFile(csv, { defaultCountry: 'US', source: 'crm-migration', fileName: 'people.csv' });

    expect(await report(done.id)).toBe(
      '\uFEFFline,column,reason,value\r\n' +
        '4,E-mail,is not a valid email address,not-an-email\r\n' +
        '5,,has no email address or phone number; a contact needs one,\r\n' +
        '8,Country,is not a country: use an ISO 3166-1 code such as DE or a name such as Germany,Atlantis\r\n' +
        '8,Mobile,is not a valid US phone number,12345\r\n' +
        '12,,has 7 fields but the header has 6,\r\n',
    );

    expect(done).toMatchObject({
      status: 'completed',
      fileName: 'people.csv',
      counts: { rowsRead: 10, created: 4, updated: 1, skipped: 1, failed: 4 },
      progress: { bytesTotal: Buffer.byteLength(csv), bytesRead: Buffer.byteLength(csv), percent: 100 },
      error: null,
      preview: null,
    });
    expect(done.options.mapping).toEqual([
      { column: 'E-mail', field: 'email' }, { column: 'First Name', field: 'firstName' }, { column: 'Last Name', field: 'lastName' },
      { column: 'Mobile', field: 'phone' }, { column: 'Company', field: 'companyName' }, { column: 'Country', field: 'country' },
    ]);

    const ada = await contactByEmail('ada@example.com');
    expect(ada).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', source: 'crm-migration', country: 'GB', lifecycleStage: 'lead', company: { name: 'Analytical Engines, Ltd', nameKey: 'analyticalengines' } });
    // The row's own country reads its national number, before the import's default country.
    expect(ada!.phones.map((phone) => phone.e164)).toEqual(['+442079460958']);
    const grace = await contactByEmail('grace@example.com');
    expect(grace!.phones.map((phone) => phone.e164)).toEqual(['+14155550102']);
    expect((await contactByEmail('alan@example.com'))!.phones.map((phone) => phone.e164)).toEqual(['+4930901820']);
    // A quoted line break is part of the cell; names collapse whitespace.
    expect(await contactByEmail('multi@example.com')).toMatchObject({ firstName: 'Multi Line', lastName: 'Name' });
    expect(await stack.db.prisma.contactEmail.count({ where: { address: { in: ['ada@example.com', 'grace@example.com'] } } })).toBe(2);
    // The audit log says which import created each contact, from which line, and what it changed.
    expect(await createdByImport(done.id)).toEqual(
      expect.arrayContaining([{ line: 2, contactId: ada!.id }, { line: 3, contactId: grace!.id }]),
    );
    expect(await createdByImport(done.id)).toHaveLength(4);
    expect(await stack.db.prisma.auditLog.findFirst({ where: { actorId: done.id, action: 'contact.updated', entityId: grace!.id } })).toMatchObject({
      before: { phones: [] }, after: { phones: ['+14155550102'] },
    });
    // The stored file is deleted once the import has ended.
    expect(await stack.db.prisma.importChunk.count({ where: { importId: done.id } })).toBe(0);
  });
});

describe('matching policies', () => {
  const header = 'Email,First Name,Last Name,Lifecycle Stage,Tags,Plan';
  async function existingContact(email: string) {
    const res = await fetch(`${stack.baseUrl}/v1/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.keys.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ firstName: 'Pat', emails: [email], lifecycleStage: 'customer', tags: ['vip'], customFields: { plan: 'gold' } }),
    });
    expect(res.status).toBe(201);
  }

  it.each([
    ['update_blanks', { updated: 1, skipped: 0 }, { firstName: 'Pat', lastName: 'Smith', lifecycleStage: 'customer', tags: ['vip', 'trade-show'], customFields: { plan: 'gold' } }],
    ['overwrite', { updated: 1, skipped: 0 }, { firstName: 'Patricia', lastName: 'Smith', lifecycleStage: 'lead', tags: ['vip', 'trade-show'], customFields: { plan: 'silver' } }],
    ['skip', { updated: 0, skipped: 1 }, { firstName: 'Pat', lastName: null, lifecycleStage: 'customer', tags: ['vip'], customFields: { plan: 'gold' } }],
  ] as const)('%s decides what a row that matches an existing contact changes', async (policy, counts, expected) => {
    const email = `pat-${policy}@example.com`;
    await existingContact(email);
    const done = await importFile(`${header}\n${email.toUpperCase()},Patricia,Smith,lead,trade-show,silver\n`, { policy, map: 'Plan:custom.plan' });
    expect(done).toMatchObject({ status: 'completed', counts: { rowsRead: 1, created: 0, failed: 0, ...counts } });
    expect(await contactByEmail(email)).toMatchObject(expected);
  });
});

describe('a dry run', () => {
  it('writes no contact or company, reports and previews exactly what the real import then does', async () => {
    await stack.db.prisma.contact.create({ data: { firstName: 'Dora', emails: { create: { address: 'dora@example.com', isPrimary: true } } } });
    // Batches of three rows: line 6 meets the contact line 2 would create, a batch later.
    const csv = [
      'email,first name,last name,company,website',
      'new@example.com,Nina,,Initech LLC,initech.example',
      'dora@example.com,Dora,Explorer,,',
      'broken@,Bad,,,',
      'other@example.com,Otto,,Initech,',
      'new@example.com,,Newman,,',
      'dora@example.com,Dora,Explorer,,',
    ].join('\n');
    const before = { contacts: await stack.db.prisma.contact.count(), companies: await stack.db.prisma.company.count() };

    const dry = await importFile(csv, { dryRun: 'true', previewSize: '3' });
    expect(dry).toMatchObject({ status: 'completed', dryRun: true, counts: { rowsRead: 6, created: 2, updated: 2, skipped: 1, failed: 1 } });
    expect(await stack.db.prisma.contact.count()).toBe(before.contacts);
    expect(await stack.db.prisma.company.count()).toBe(before.companies);
    expect(await contactByEmail('dora@example.com')).toMatchObject({ lastName: null });
    expect(await stack.db.prisma.importDryRunEntry.count({ where: { importId: dry.id } })).toBe(0);
    expect(await report(dry.id)).toBe('\uFEFFline,column,reason,value\r\n4,email,is not a valid email address,broken@\r\n');
    expect(dry.preview).toEqual([
      {
        line: 2, action: 'created', contactId: expect.any(String), fields: ['firstName', 'emails', 'company', 'lifecycleStage', 'source'], before: null,
        after: expect.objectContaining({ firstName: 'Nina', emails: ['new@example.com'], company: 'Initech LLC', lifecycleStage: 'lead', source: 'import' }),
      },
      {
        line: 3, action: 'updated', contactId: expect.any(String), fields: ['lastName', 'source'],
        before: expect.objectContaining({ firstName: 'Dora', lastName: null, source: null }), after: expect.objectContaining({ lastName: 'Explorer', source: 'import' }),
      },
      { line: 5, action: 'created', contactId: expect.any(String), fields: expect.any(Array), before: null, after: expect.objectContaining({ company: 'Initech LLC' }) },
    ]);

    const real = await importFile(csv);
    expect(real.counts).toEqual(dry.counts);
    expect(await stack.db.prisma.contact.count()).toBe(before.contacts + 2);
    expect(await stack.db.prisma.company.count()).toBe(before.companies + 1);
    expect(await contactByEmail('new@example.com')).toMatchObject({ firstName: 'Nina', lastName: 'Newman', company: { name: 'Initech LLC', domain: 'initech.example' } });
  });
});

describe('required fields', () => {
  it('rejects each row that would leave a contact without a field its lifecycle stage requires, in a dry run as in the real import', async () => {
    const rule = (method: 'PUT' | 'DELETE') =>
      fetch(`${stack.baseUrl}/v1/required-fields/lifecycle-stages/customer`, {
        method,
        headers: { authorization: `Bearer ${stack.keys.admin}`, 'content-type': 'application/json' },
        ...(method === 'PUT' ? { body: JSON.stringify({ fields: ['phones'] }) } : {}),
      });
    expect((await rule('PUT')).status).toBe(200);
    try {
      await stack.db.prisma.contact.create({ data: { firstName: 'Cora', lifecycleStage: 'customer', emails: { create: { address: 'cora@example.com', isPrimary: true } } } });
      // Batches of three rows: line 6 is in the batch after line 3, whose person it imports again, with a phone.
      const csv = [
        'Email,Mobile,Lifecycle Stage,Last Name',
        'buyer@example.com,+1 415 555 0141,customer,Byers',
        'nophone@example.com,,Customer,Nofone',
        'lead@example.com,,lead,Leed',
        'cora@example.com,,,Cole',
        'nophone@example.com,+1 415 555 0142,customer,',
      ].join('\n');
      const rejected = '\uFEFFline,column,reason,value\r\n' +
        '3,Mobile,required: phones must have a value for a contact in the customer stage,\r\n' +
        '5,Mobile,required: phones must have a value for a contact in the customer stage,\r\n';

      const dry = await importFile(csv, { dryRun: 'true' });
      expect(dry).toMatchObject({ status: 'completed', counts: { rowsRead: 5, created: 3, updated: 0, skipped: 0, failed: 2 } });
      expect(await report(dry.id)).toBe(rejected);
      expect(await contactByEmail('buyer@example.com')).toBeNull();

      const real = await importFile(csv);
      expect(real.counts).toEqual(dry.counts);
      expect(await report(real.id)).toBe(rejected);
      expect(await contactByEmail('buyer@example.com')).toMatchObject({ lifecycleStage: 'customer', lastName: 'Byers' });
      expect(await contactByEmail('lead@example.com')).toMatchObject({ lifecycleStage: 'lead', phones: [] });
      // The stored customer keeps what it had: its row would have left it a customer without a phone.
      expect(await contactByEmail('cora@example.com')).toMatchObject({ lastName: null });
      expect(await contactByEmail('nophone@example.com')).toMatchObject({ lifecycleStage: 'customer', lastName: null, phones: [expect.objectContaining({ e164: '+14155550142' })] });
    } finally {
      await rule('DELETE');
    }
  });
});

describe('refused uploads', () => {
  it('answer problem+json naming the option or the file, and store nothing', async () => {
    const imports = await stack.db.prisma.import.count();
    const problem = async (res: Response) => ({ status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as { errors?: unknown[] } });

    expect(await problem(await upload('email\na@example.com\n', { policy: 'sometimes', defaultCountry: 'Atlantis' }))).toMatchObject({
      status: 400,
      type: 'application/problem+json; charset=utf-8',
      body: { errors: [
        { field: 'query.defaultCountry', message: '"Atlantis" is not a country: use an ISO 3166-1 code such as DE or a name such as Germany' },
        { field: 'query.policy', message: expect.stringContaining('"update_blanks"|"overwrite"|"skip"') },
      ] },
    });
    expect(await problem(await upload('email\na@example.com\n', { consent: 'granted' }))).toMatchObject({
      status: 400,
      body: { errors: [{ field: 'query.consentBasis', message: 'is required with consent=granted: say how the people in the file agreed' }] },
    });
    expect(await problem(await upload('email,name\na@example.com,A\n', { map: 'Mail:email' }))).toMatchObject({
      status: 422,
      body: { errors: [{ field: 'query.map', message: '"Mail" is not a column of the file; its columns are "email", "name"' }] },
    });
    expect(await problem(await upload(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00])))).toMatchObject({
      status: 422,
      body: { errors: [{ field: 'body', message: 'is an Excel workbook or another zip file, not CSV: save it as "CSV UTF-8"' }] },
    });
    expect(await problem(await upload(Buffer.from('email,name\nren\xe9e@example.com,Ren\xe9e\n', 'latin1')))).toMatchObject({
      status: 422,
      body: { errors: [{ field: 'body', message: 'is not UTF-8 text: save it as "CSV UTF-8" (Excel) or convert it to UTF-8' }] },
    });
    expect(await problem(await upload(''))).toMatchObject({ status: 422, body: { errors: [{ field: 'body', message: 'is empty: the file has no header row' }] } });
    expect(await problem(await upload('{"email":"a@example.com"}', {}, { 'content-type': 'application/json' }))).toMatchObject({
      status: 415,
      body: { errors: [{ field: 'header.Content-Type', message: 'must be text/csv' }] },
    });
    expect(await stack.db.prisma.import.count()).toBe(imports);
    expect(await stack.db.prisma.importChunk.count()).toBe(0);
  });
});

describe('an import that waits for a worker', () => {
  it('is cancelled before its first batch and imports nothing; an ended import cannot be cancelled again', async () => {
    await worker!.stop();
    try {
      const queued = await startImport('email\ncancelled-1@example.com\ncancelled-2@example.com\n');
      expect(queued.status).toBe('queued');
      const cancel = () => fetch(`${stack.baseUrl}/v1/imports/${queued.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${stack.keys.admin}` } });
      const first = await cancel();
      expect(first.status).toBe(202);
      expect(((await first.json()) as ImportView).status).toBe('cancelling');
      expect((await cancel()).status).toBe(202);

      worker = await stack.startWorker();
      expect(await finished(queued.id)).toMatchObject({ status: 'cancelled', counts: { rowsRead: 0, created: 0 } });
      expect(await contactByEmail('cancelled-1@example.com')).toBeNull();
      expect(await stack.db.prisma.importChunk.count({ where: { importId: queued.id } })).toBe(0);
      const again = await cancel();
      expect(again.status).toBe(409);
      expect(await again.json()).toMatchObject({ type: '/problems/conflict', detail: 'The import has already ended (cancelled); there is nothing to cancel.' });
    } finally {
      if (worker?.worker.getState() !== 'RUNNING') worker = await stack.startWorker();
    }
  });

  it('continues as new every callsPerRun activity calls, carrying nothing but the import id', async () => {
    await worker!.stop();
    const rows = Array.from({ length: 10 }, (_, index) => `can-${index}@example.com`);
    const queued = await startImport(`email\n${rows.join('\n')}\n`);
    const workflowId = importWorkflowId(queued.id);
    // Restart it with one batch (of three rows) per call and two calls per run: four batches need two continuations.
    await stack.client.workflow.getHandle(workflowId).terminate('restarted with smaller runs');
    const handle = await stack.client.workflow.start(contactImport, { workflowId, taskQueue: stack.taskQueue, args: [{ importId: queued.id, callsPerRun: 2, batchesPerCall: 1 }] });
    const firstRun = stack.client.workflow.getHandle(workflowId, handle.firstExecutionRunId);
    worker = await stack.startWorker();

    expect(await finished(queued.id)).toMatchObject({ status: 'completed', counts: { rowsRead: 10, created: 10 } });
    expect(await stack.client.workflow.getHandle(workflowId).result()).toBe('completed');
    const history = await firstRun.fetchHistory();
    expect(history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.input).toBeTruthy();

    await recordHistory({ fetchHistory: async () => history }, 'contact-import-continue-as-new.json');
  });
});

describe('GET /v1/imports', () => {
  it('lists imports newest first, for readers such as managers', async () => {
    const manager = await stack.db.prisma.user.findFirstOrThrow({ where: { role: 'manager' } });
    const key = await stack.keyFor('manager', manager.id);
    const res = await fetch(`${stack.baseUrl}/v1/imports?limit=2`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: ImportView[]; nextCursor: string | null };
    expect(body.data).toHaveLength(2);
    expect(body.data[0]!.createdAt >= body.data[1]!.createdAt).toBe(true);
    expect(body.nextCursor).toEqual(expect.any(String));
    const forbidden = await fetch(`${stack.baseUrl}/v1/imports`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' }, body: 'email\nx@example.com\n' });
    expect(forbidden.status).toBe(403);
  });
});

describe('a worker killed mid-import', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) await stopChild(child, 2_000);
  });

  it('is replaced by another that resumes after the last committed batch: exact counts, no contact twice', async () => {
    await worker!.stop();
    const rows = 3000;
    const lines = ['email,first name,last name'];
    for (let i = 0; i < rows; i += 1) {
      if (i % 20 === 7) lines.push(`crash-${i}@,Broken,Row`);
      else if (i % 10 === 3 && i >= 10) lines.push(`crash-${i - 3}@example.com,First${i - 3},Last`);
      else lines.push(`crash-${i}@example.com,First${i},Last`);
    }
    const failed = rows / 20;
    const repeated = rows / 10 - 1;
    const created = rows - failed - repeated;

    const startWorkerProcess = () => {
      const child = startWorkerProcessFor(stack, { IMPORT_BATCH_ROWS: '50' });
      children.push(child);
      return child;
    };
    const first = startWorkerProcess();
    const queued = await startImport(`${lines.join('\n')}\n`, { source: 'crash-test' });
    const progress = () => stack.db.prisma.import.findUniqueOrThrow({ where: { id: queued.id } });
    // Kill it with work under way: batches committed, one most likely mid-transaction, more to come.
    await eventually(progress, (row) => row.rowsRead >= 500, 120_000);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect((await progress()).rowsRead).toBeLessThan(rows);

    startWorkerProcess();
    const done = await finished(queued.id, 150_000);
    expect(done).toMatchObject({ status: 'completed', counts: { rowsRead: rows, created, updated: 0, skipped: repeated, failed } });
    expect(await stack.db.prisma.contact.count({ where: { source: 'crash-test' } })).toBe(created);
    expect(await stack.db.prisma.contactEmail.count({ where: { address: { startsWith: 'crash-' } } })).toBe(created);
    expect(await stack.db.prisma.importRowError.count({ where: { importId: queued.id } })).toBe(failed);
    expect(await createdByImport(queued.id)).toHaveLength(created);
  }, 240_000);
});
