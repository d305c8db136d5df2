import { describe, expect, it } from '@jest/globals';
import type { z } from 'zod';
import { ContactCreateSchema, ContactListQuerySchema, ContactUpdateSchema } from '../../domain/schemas/contact';

const ownerId = '6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f';

function issuesOf(result: { success: boolean; error?: z.ZodError }): z.core.$ZodIssue[] {
  if (result.success || !result.error) throw new Error('expected the input to be rejected');
  return result.error.issues;
}

const paths = (issues: z.core.$ZodIssue[]): PropertyKey[][] => issues.map((issue) => issue.path);

describe('ContactCreateSchema', () => {
  it('normalises emails to lower case and phones to E.164', () => {
    const contact = ContactCreateSchema.parse({ emails: [' Jane.Doe@Example.COM '], phones: ['+1 (415) 555-0123'] });
    expect(contact.emails).toEqual(['jane.doe@example.com']);
    expect(contact.phones).toEqual(['+14155550123']);
  });

  it('capitalises names typed in one case and trims the source', () => {
    const contact = ContactCreateSchema.parse({ firstName: 'JANE', lastName: "o'brien", emails: ['jane@example.com'], source: '  webinar ' });
    expect(contact.firstName).toBe('Jane');
    expect(contact.lastName).toBe("O'Brien");
    expect(contact.source).toBe('webinar');
  });

  it('lower-cases and trims tags', () => {
    expect(ContactCreateSchema.parse({ emails: ['jane@example.com'], tags: [' VIP ', 'Trade-Show:2024'] }).tags).toEqual(['vip', 'trade-show:2024']);
  });

  it('fills defaults: lifecycle stage lead, no phones, no tags, no custom fields', () => {
    expect(ContactCreateSchema.parse({ emails: ['jane@example.com'] })).toEqual({
      emails: ['jane@example.com'],
      phones: [],
      lifecycleStage: 'lead',
      tags: [],
      customFields: {},
    });
  });

  it('accepts a contact with a phone and no email', () => {
    expect(ContactCreateSchema.parse({ phones: ['+4930123456'] }).emails).toEqual([]);
  });

  it('rejects a contact with neither email nor phone, on the emails path', () => {
    const issues = issuesOf(ContactCreateSchema.safeParse({ firstName: 'Jane' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toEqual(['emails']);
    expect(issues[0]?.message).toBe('a contact needs at least one email address or phone number');
  });

  it('rejects a contact whose email and phone lists are both empty', () => {
    expect(paths(issuesOf(ContactCreateSchema.safeParse({ emails: [], phones: [] })))).toEqual([['emails']]);
  });

  it('rejects unknown fields because the schema is strict', () => {
    const issues = issuesOf(ContactCreateSchema.safeParse({ emails: ['jane@example.com'], email: 'jane@example.com' }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.code).toBe('unrecognized_keys');
    expect(issues[0]).toMatchObject({ keys: ['email'] });
  });

  it('rejects an email listed twice after normalisation, with the index of the repeat in the path', () => {
    const issues = issuesOf(ContactCreateSchema.safeParse({ emails: ['jane@example.com', 'joe@example.com', 'JANE@Example.com'] }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toEqual(['emails', 2]);
    expect(issues[0]?.message).toBe('jane@example.com is listed twice');
  });

  it('rejects a phone listed twice in different formats, with the index of the repeat in the path', () => {
    const issues = issuesOf(ContactCreateSchema.safeParse({ phones: ['+14155550123', '+1 415-555-0123'] }));
    expect(paths(issues)).toEqual([['phones', 1]]);
  });

  it('reports a bad email with its index in the path and the value in the message', () => {
    const issues = issuesOf(ContactCreateSchema.safeParse({ emails: ['jane@example.com', 'not-an-email'] }));
    expect(paths(issues)).toEqual([['emails', 1]]);
    expect(issues[0]?.message).toContain('"not-an-email" is not a valid email address');
  });

  it('rejects a phone without country code, because the API has no default country', () => {
    expect(paths(issuesOf(ContactCreateSchema.safeParse({ phones: ['(415) 555-0123'] })))).toEqual([['phones', 0]]);
  });

  it('rejects more than ten emails', () => {
    const emails = Array.from({ length: 11 }, (_, i) => `person${i}@example.com`);
    expect(paths(issuesOf(ContactCreateSchema.safeParse({ emails })))).toEqual([['emails']]);
  });

  it('accepts an IANA time zone and rejects an unknown one on the timeZone path', () => {
    expect(ContactCreateSchema.parse({ emails: ['jane@example.com'], timeZone: 'Europe/Berlin' }).timeZone).toBe('Europe/Berlin');
    const issues = issuesOf(ContactCreateSchema.safeParse({ emails: ['jane@example.com'], timeZone: 'Berlin/Europe' }));
    expect(paths(issues)).toEqual([['timeZone']]);
    expect(issues[0]?.message).toBe('must be an IANA time zone such as Europe/Berlin');
  });

  it('rejects luxon keywords such as "system" as a time zone', () => {
    expect(paths(issuesOf(ContactCreateSchema.safeParse({ emails: ['jane@example.com'], timeZone: 'system' })))).toEqual([['timeZone']]);
  });

  it.each([
    ['a space', 'big deal'],
    ['a leading dash', '-vip'],
    ['a dot', 'v.i.p'],
    ['an empty string', ''],
    ['65 characters', 'a'.repeat(65)],
  ])('rejects a tag with %s, with the tag index in the path', (_kind, tag) => {
    const issues = issuesOf(ContactCreateSchema.safeParse({ emails: ['jane@example.com'], tags: ['ok', tag] }));
    expect(paths(issues)).toEqual([['tags', 1]]);
  });

  it('rejects an owner id that is not a UUID', () => {
    expect(paths(issuesOf(ContactCreateSchema.safeParse({ emails: ['jane@example.com'], ownerId: '42' })))).toEqual([['ownerId']]);
  });

  it('accepts a UUID owner id', () => {
    expect(ContactCreateSchema.parse({ emails: ['jane@example.com'], ownerId }).ownerId).toBe(ownerId);
  });

  it('rejects an unknown lifecycle stage', () => {
    expect(paths(issuesOf(ContactCreateSchema.safeParse({ emails: ['jane@example.com'], lifecycleStage: 'prospect' })))).toEqual([['lifecycleStage']]);
  });

  it('rejects a blank first name', () => {
    const issues = issuesOf(ContactCreateSchema.safeParse({ emails: ['jane@example.com'], firstName: '   ' }));
    expect(paths(issues)).toEqual([['firstName']]);
    expect(issues[0]?.message).toBe('must not be blank');
  });

  it('rejects a custom field name that does not start with a letter and a custom field value that is an object', () => {
    const badName = issuesOf(ContactCreateSchema.safeParse({ emails: ['jane@example.com'], customFields: { '1st': 'x' } }));
    expect(badName[0]?.path[0]).toBe('customFields');
    const badValue = issuesOf(ContactCreateSchema.safeParse({ emails: ['jane@example.com'], customFields: { plan: { tier: 'pro' } } }));
    expect(paths(badValue)).toEqual([['customFields', 'plan']]);
  });
});

describe('ContactUpdateSchema', () => {
  it('rejects an empty update on the root path', () => {
    const issues = issuesOf(ContactUpdateSchema.safeParse({}));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toEqual([]);
    expect(issues[0]?.message).toBe('the body must change at least one field');
  });

  it('accepts an update of a single field without filling defaults for the others', () => {
    expect(ContactUpdateSchema.parse({ lifecycleStage: 'mql' })).toEqual({ lifecycleStage: 'mql' });
  });

  it('normalises emails and phones in an update', () => {
    expect(ContactUpdateSchema.parse({ emails: ['JANE@EXAMPLE.COM'], phones: ['+44 20 7946 0958'] })).toEqual({
      emails: ['jane@example.com'],
      phones: ['+442079460958'],
    });
  });

  it('accepts null to clear nullable fields', () => {
    expect(ContactUpdateSchema.parse({ firstName: null, ownerId: null, timeZone: null, source: null })).toEqual({
      firstName: null,
      ownerId: null,
      timeZone: null,
      source: null,
    });
  });

  it('rejects unknown fields because the schema is strict', () => {
    const issues = issuesOf(ContactUpdateSchema.safeParse({ score: 10 }));
    expect(issues[0]?.code).toBe('unrecognized_keys');
  });

  it('rejects duplicate emails in an update with the index of the repeat in the path', () => {
    expect(paths(issuesOf(ContactUpdateSchema.safeParse({ emails: ['a@example.com', 'A@example.com'] })))).toEqual([['emails', 1]]);
  });

  it('rejects duplicate phones in an update with the index of the repeat in the path', () => {
    expect(paths(issuesOf(ContactUpdateSchema.safeParse({ phones: ['+14155550123', '+4930123456', '+1 415 555 0123'] })))).toEqual([['phones', 2]]);
  });

  it('rejects a bad time zone and a bad tag, each on its own path', () => {
    const issues = issuesOf(ContactUpdateSchema.safeParse({ timeZone: 'Mars/Base', tags: ['fine', 'not fine'] }));
    expect(paths(issues)).toEqual([['timeZone'], ['tags', 1]]);
  });

  it('rejects null for a non-nullable field such as lifecycleStage', () => {
    expect(paths(issuesOf(ContactUpdateSchema.safeParse({ lifecycleStage: null })))).toEqual([['lifecycleStage']]);
  });
});

describe('ContactListQuerySchema', () => {
  it('defaults the page size to 50', () => {
    expect(ContactListQuerySchema.parse({})).toEqual({ limit: 50 });
  });

  it('coerces the query-string limit to a number', () => {
    expect(ContactListQuerySchema.parse({ limit: '20' }).limit).toBe(20);
  });

  it.each(['0', '201', '2.5', 'ten'])('rejects the limit %s', (limit) => {
    expect(paths(issuesOf(ContactListQuerySchema.safeParse({ limit })))).toEqual([['limit']]);
  });

  it('normalises the email filter and the tag filter', () => {
    expect(ContactListQuerySchema.parse({ email: ' Jane@Example.com ', tag: 'VIP' })).toMatchObject({ email: 'jane@example.com', tag: 'vip' });
  });

  it('rejects an invalid email filter', () => {
    expect(paths(issuesOf(ContactListQuerySchema.safeParse({ email: 'jane' })))).toEqual([['email']]);
  });

  it('accepts ISO date-times with an offset and rejects plain dates', () => {
    expect(ContactListQuerySchema.parse({ createdAfter: '2024-03-01T00:00:00+01:00', createdBefore: '2024-04-01T00:00:00Z' })).toMatchObject({
      createdAfter: '2024-03-01T00:00:00+01:00',
      createdBefore: '2024-04-01T00:00:00Z',
    });
    expect(paths(issuesOf(ContactListQuerySchema.safeParse({ createdAfter: '2024-03-01' })))).toEqual([['createdAfter']]);
  });

  it('rejects unknown query parameters because the schema is strict', () => {
    const issues = issuesOf(ContactListQuerySchema.safeParse({ sort: 'name' }));
    expect(issues[0]?.code).toBe('unrecognized_keys');
  });

  it('rejects an unknown lifecycle stage filter and a non-UUID owner filter', () => {
    expect(paths(issuesOf(ContactListQuerySchema.safeParse({ lifecycleStage: 'won', ownerId: 'me' })))).toEqual([['lifecycleStage'], ['ownerId']]);
  });
});
