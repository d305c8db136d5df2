import { describe, expect, it } from '@jest/globals';
import { planBatch, type BatchLookups, type ContactSnapshot, type KnownCompany, type PlanOptions } from '../../domain/import/plan';
import { requiredFieldCheck } from '../../domain/import/required-fields';
import type { ImportedContact } from '../../domain/import/row';
import { companyMatchKey } from '../../domain/matching';

function imported(line: number, fields: Partial<Omit<ImportedContact, 'emails' | 'phones'>> & { emails?: string[]; phones?: string[] }): ImportedContact {
  return {
    line,
    firstName: null, lastName: null, companyName: null, companyDomain: null, lifecycleStage: null, source: null, tags: [], timeZone: null, country: null, customFields: {},
    ...fields,
    companyKey: fields.companyName ? companyMatchKey(fields.companyName) : null,
    emails: (fields.emails ?? []).map((value) => ({ value, column: 'Email' })),
    phones: (fields.phones ?? []).map((value) => ({ value, column: 'Phone' })),
  };
}

const existing: ContactSnapshot = {
  firstName: 'Jane', lastName: null, emails: ['jane@example.com'], phones: [], company: null, ownerId: null, lifecycleStage: 'customer',
  source: 'website', tags: ['vip'], timeZone: null, country: null, customFields: { plan: 'gold' }, consent: {},
};

function lookups(contacts: Record<string, ContactSnapshot> = { 'c-jane': existing }, companies: Record<string, KnownCompany> = {}): BatchLookups {
  const owners = new Map<string, string>();
  for (const [id, snapshot] of Object.entries(contacts)) {
    for (const email of snapshot.emails) owners.set(`email:${email}`, id);
    for (const phone of snapshot.phones) owners.set(`phone:${phone}`, id);
  }
  return { owners, contacts: new Map(Object.entries(contacts)), companies: new Map(Object.entries(companies)) };
}

function options(overrides: Partial<PlanOptions> = {}): PlanOptions {
  let next = 0;
  return { policy: 'update_blanks', source: 'import', consent: null, newId: () => `new-${(next += 1)}`, requiredFields: () => [], ...overrides };
}

const janeRow = imported(2, { emails: ['jane@example.com'], firstName: 'Janet', lastName: 'Doe', lifecycleStage: 'lead', tags: ['trade-show'], customFields: { plan: 'silver', size: 'M' } });

describe('planBatch policies for a row that matches an existing contact', () => {
  it('update_blanks fills only what the contact lacks and adds tags', () => {
    const plan = planBatch([janeRow], lookups(), options());
    expect(plan.outcomes).toEqual([{ line: 2, action: 'updated', contactId: 'c-jane', notes: [] }]);
    expect(plan.changes[0]!.fields).toEqual(['lastName', 'tags', 'customFields.size']);
    expect(plan.contacts[0]!.after).toMatchObject({ firstName: 'Jane', lastName: 'Doe', lifecycleStage: 'customer', tags: ['vip', 'trade-show'], customFields: { plan: 'gold', size: 'M' } });
  });

  it('overwrite replaces every value the row has, the lifecycle stage included, and keeps what the row lacks', () => {
    const plan = planBatch([janeRow], lookups(), options({ policy: 'overwrite' }));
    expect(plan.changes[0]!.fields).toEqual(['firstName', 'lastName', 'lifecycleStage', 'tags', 'customFields.plan', 'customFields.size']);
    expect(plan.contacts[0]!.after).toMatchObject({ firstName: 'Janet', lastName: 'Doe', lifecycleStage: 'lead', source: 'website', tags: ['vip', 'trade-show'], customFields: { plan: 'silver', size: 'M' } });
    expect(plan.contacts[0]!.before).toBe(existing);
  });

  it('skip leaves the contact alone and counts the row as skipped', () => {
    const plan = planBatch([janeRow], lookups(), options({ policy: 'skip' }));
    expect(plan.outcomes).toEqual([{ line: 2, action: 'skipped', contactId: 'c-jane', notes: [] }]);
    expect(plan.contacts).toEqual([]);
    expect(plan.changes).toEqual([]);
  });

  it('counts a matched row that changes nothing as skipped', () => {
    const plan = planBatch([imported(2, { emails: ['jane@example.com'], firstName: 'Jane' })], lookups(), options());
    expect(plan.outcomes[0]!.action).toBe('skipped');
    expect(plan.contacts).toEqual([]);
  });
});

describe('planBatch matching', () => {
  it('matches by email first, then by phone', () => {
    const contacts = { 'c-mail': { ...existing, emails: ['a@example.com'] }, 'c-phone': { ...existing, emails: [], phones: ['+14155550132'] } };
    const plan = planBatch([imported(2, { emails: ['a@example.com'], phones: ['+14155550132'] }), imported(3, { emails: ['new@example.com'], phones: ['+14155550132'] })], lookups(contacts), options());
    expect(plan.outcomes.map((outcome) => [outcome.line, outcome.contactId])).toEqual([[2, 'c-mail'], [3, 'c-phone']]);
  });

  it('leaves an address that belongs to another contact where it is, and says so in the row notes', () => {
    const contacts = { 'c-mail': { ...existing, emails: ['a@example.com'] }, 'c-phone': { ...existing, emails: [], phones: ['+14155550132'] } };
    const plan = planBatch([imported(2, { emails: ['a@example.com'], phones: ['+14155550132'] })], lookups(contacts), options());
    expect(plan.outcomes[0]).toEqual({
      line: 2, action: 'skipped', contactId: 'c-mail',
      notes: [{ column: 'Phone', reason: 'belongs to another contact (c-phone) and stays there; merge the two contacts if they are one person', value: '+14155550132' }],
    });
  });

  it('applies rows in file order: a later row of the same new person updates the contact the earlier row created', () => {
    const plan = planBatch(
      [imported(2, { emails: ['new@example.com'], firstName: 'Ann' }), imported(3, { phones: ['+14155550199'], emails: ['NEW@example.com'.toLowerCase()], lastName: 'Lee' })],
      lookups({}),
      options(),
    );
    expect(plan.outcomes.map((outcome) => [outcome.action, outcome.contactId])).toEqual([['created', 'new-1'], ['updated', 'new-1']]);
    expect(plan.contacts).toHaveLength(1);
    expect(plan.contacts[0]).toMatchObject({ id: 'new-1', isNew: true, before: null, after: { firstName: 'Ann', lastName: 'Lee', emails: ['new@example.com'], phones: ['+14155550199'] } });
  });

  it('gives a new contact the import source and lead stage unless the row has its own', () => {
    const plan = planBatch([imported(2, { emails: ['x@example.com'] }), imported(3, { emails: ['y@example.com'], source: 'fair', lifecycleStage: 'sql' })], lookups({}), options({ source: 'tradeshow-2026' }));
    expect(plan.contacts.map((contact) => [contact.after.source, contact.after.lifecycleStage])).toEqual([['tradeshow-2026', 'lead'], ['fair', 'sql']]);
  });

  it('under overwrite makes the row\'s address the primary one, keeping the old one', () => {
    const plan = planBatch([imported(2, { emails: ['jane@work.example', 'jane@example.com'] })], lookups(), options({ policy: 'overwrite' }));
    expect(plan.contacts[0]!.after.emails).toEqual(['jane@work.example', 'jane@example.com']);
  });
});

describe('planBatch companies', () => {
  const acme: KnownCompany = { ref: 'co-acme', name: 'Acme Inc.', domain: null };

  it('finds a company by its name without legal form, and creates one per new domain or name once', () => {
    const plan = planBatch(
      [
        imported(2, { emails: ['a@x.example'], companyName: 'ACME, Inc' }),
        imported(3, { emails: ['b@x.example'], companyName: 'Globex GmbH', companyDomain: 'globex.de' }),
        imported(4, { emails: ['c@x.example'], companyName: 'Globex' }),
      ],
      lookups({}, { 'name:acme': acme }),
      options(),
    );
    expect(plan.contacts.map((contact) => contact.after.company)).toEqual([
      { ref: 'co-acme', name: 'Acme Inc.' },
      { ref: 'new:domain:globex.de', name: 'Globex GmbH' },
      { ref: 'new:domain:globex.de', name: 'Globex GmbH' },
    ]);
    expect(plan.companies).toEqual([{ ref: 'new:domain:globex.de', name: 'Globex GmbH', domain: 'globex.de', nameKey: 'globex' }]);
  });

  it('does not take a same-named company whose website says it is another one', () => {
    const plan = planBatch([imported(2, { emails: ['a@x.example'], companyName: 'Acme', companyDomain: 'acme.de' })], lookups({}, { 'name:acme': { ...acme, domain: 'acme.com' } }), options());
    expect(plan.contacts[0]!.after.company).toEqual({ ref: 'new:domain:acme.de', name: 'Acme' });
  });
});

describe('planBatch consent', () => {
  const consent = { channels: ['email' as const, 'sms' as const], basis: 'webinar opt-in' };

  it('grants consent on each channel the contact has an address for', () => {
    const plan = planBatch([imported(2, { emails: ['x@example.com'] })], lookups({}), options({ consent }));
    expect(plan.consentGrants).toEqual([{ contactId: 'new-1', channel: 'email', line: 2 }]);
    expect(plan.changes[0]!.fields).toContain('consent.email');
  });

  it('never grants again what a contact withdrew, and says so', () => {
    const withdrawn = { ...existing, consent: { email: 'revoked' as const } };
    const plan = planBatch([imported(2, { emails: ['jane@example.com'] })], lookups({ 'c-jane': withdrawn }), options({ consent }));
    expect(plan.consentGrants).toEqual([]);
    expect(plan.outcomes[0]).toMatchObject({ action: 'skipped', notes: [{ column: null, reason: 'email consent was withdrawn earlier and is not granted again by an import', value: null }] });
  });

  it('counts a newly granted consent as a change of a matched contact', () => {
    const plan = planBatch([imported(2, { emails: ['jane@example.com'] })], lookups(), options({ consent }));
    expect(plan.outcomes[0]!.action).toBe('updated');
    expect(plan.changes[0]!.fields).toEqual(['consent.email']);
  });
});

describe('planBatch required fields', () => {
  const mapping = [
    { index: 0, column: 'Email', field: 'email' as const },
    { index: 1, column: 'Phone', field: 'phone' as const },
    { index: 2, column: 'Stage', field: 'lifecycleStage' as const },
    { index: 3, column: 'Firma', field: 'companyName' as const },
  ];
  const requiredFields = requiredFieldCheck(new Map([['customer', ['phones', 'companyId', 'ownerId', 'customFields.budget']]]), mapping);
  const missing = (field: string, column: string) => ({ column, reason: `required: ${field} must have a value for a contact in the customer stage`, value: null });

  it('rejects a new contact in a guarded stage with each missing field on its column, or named when no column fills it', () => {
    const plan = planBatch([imported(2, { emails: ['x@example.com'], lifecycleStage: 'customer', companyName: 'Acme' })], lookups({}), options({ requiredFields }));
    expect(plan.rejected).toEqual([{ line: 2, problems: [missing('phones', 'Phone'), missing('ownerId', 'ownerId'), missing('customFields.budget', 'customFields.budget')] }]);
    expect(plan.outcomes).toEqual([]);
    expect(plan.contacts).toEqual([]);
    expect(plan.companies).toEqual([]);
  });

  it('takes rows whose stage has no rule, or that fill what it requires', () => {
    const phoneOnly = requiredFieldCheck(new Map([['customer', ['phones']]]), mapping);
    const plan = planBatch(
      [imported(2, { emails: ['lead@example.com'] }), imported(3, { emails: ['buyer@example.com'], phones: ['+14155550132'], lifecycleStage: 'customer' })],
      lookups({}),
      options({ requiredFields: phoneOnly }),
    );
    expect(plan.rejected).toEqual([]);
    expect(plan.outcomes.map((outcome) => outcome.action)).toEqual(['created', 'created']);
  });

  it('checks a matched contact in the stage it keeps after the policy, and a later row of the same person sees nothing of a rejected one', () => {
    const phoneOnly = requiredFieldCheck(new Map([['customer', ['phones']]]), mapping);
    const consent = { channels: ['email' as const], basis: 'webinar opt-in' };
    // update_blanks keeps Jane a customer whatever the row's stage; her row brings no phone.
    const plan = planBatch(
      [imported(2, { emails: ['jane@example.com'], lastName: 'Doe', lifecycleStage: 'lead' }), imported(3, { emails: ['jane@example.com'], phones: ['+14155550132'] })],
      lookups(),
      options({ requiredFields: phoneOnly, consent }),
    );
    expect(plan.rejected).toEqual([{ line: 2, problems: [missing('phones', 'Phone')] }]);
    expect(plan.changes).toEqual([expect.objectContaining({ line: 3, fields: ['phones', 'consent.email'], before: existing })]);
    expect(plan.consentGrants).toEqual([{ contactId: 'c-jane', channel: 'email', line: 3 }]);

    // overwrite moves her to lead, which has no rule.
    const overwritten = planBatch([imported(2, { emails: ['jane@example.com'], lifecycleStage: 'lead' })], lookups(), options({ requiredFields: phoneOnly, policy: 'overwrite' }));
    expect(overwritten.rejected).toEqual([]);
    expect(overwritten.outcomes[0]!.action).toBe('updated');
  });

  it('leaves rows that change nothing skipped, whatever the contact lacks', () => {
    const plan = planBatch([imported(2, { emails: ['jane@example.com'] })], lookups(), options({ requiredFields: requiredFieldCheck(new Map([['customer', ['phones']]]), mapping) }));
    expect(plan.rejected).toEqual([]);
    expect(plan.outcomes[0]!.action).toBe('skipped');
  });
});
