import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../domain/errors';
import { missingRequiredFields, requiredFieldNameErrors, requiredFieldsError } from '../../domain/required-fields';
import { ContactRequiredFieldsSchema, DealRequiredFieldsSchema } from '../../domain/schemas/required-fields';

describe('missingRequiredFields', () => {
  const contact = { firstName: 'Jane', lastName: ' ', emails: [], phones: ['+14155550123'], companyId: null, customFields: { budget: 0, region: '' } };

  it('lists every empty field the rules require: null, blank, empty list, missing custom field', () => {
    expect(missingRequiredFields([{ fields: ['firstName', 'lastName', 'emails', 'phones', 'companyId', 'customFields.region', 'customFields.plan'] }], contact)).toEqual([
      'lastName',
      'emails',
      'companyId',
      'customFields.region',
      'customFields.plan',
    ]);
  });

  it('counts 0 and false as filled in', () => {
    expect(missingRequiredFields([{ fields: ['customFields.budget'] }], contact)).toEqual([]);
    expect(missingRequiredFields([{ fields: ['customFields.flag'] }], { customFields: { flag: false } })).toEqual([]);
  });

  it('names a field required by two rules once', () => {
    expect(missingRequiredFields([{ fields: ['amount'] }, { fields: ['amount', 'expectedCloseDate'] }], { amount: null })).toEqual(['amount', 'expectedCloseDate']);
  });

  it('finds nothing missing without rules', () => {
    expect(missingRequiredFields([], {})).toEqual([]);
  });
});

describe('requiredFieldsError', () => {
  it('is a 422 validation error naming each missing field', () => {
    const error = requiredFieldsError(['amount', 'expectedCloseDate'], 'a deal enters the Proposal stage');
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.errors).toEqual([
      { field: 'amount', message: 'is required before a deal enters the Proposal stage' },
      { field: 'expectedCloseDate', message: 'is required before a deal enters the Proposal stage' },
    ]);
    expect(error.message).toMatch(/^2 required fields are empty: amount, expectedCloseDate/);
  });
});

describe('rule bodies', () => {
  it('accept known contact fields and custom fields, and known deal fields', () => {
    expect(ContactRequiredFieldsSchema.safeParse({ fields: ['lastName', 'companyId', 'customFields.budget'] }).success).toBe(true);
    expect(DealRequiredFieldsSchema.safeParse({ fields: ['amount', 'expectedCloseDate'] }).success).toBe(true);
  });

  it('name each unknown or repeated field by its position', () => {
    expect(requiredFieldNameErrors('deal', ['amount', 'customFields.x', 'amount'])).toEqual([
      { field: 'fields/1', message: expect.stringContaining('"customFields.x" is not a deal field') },
      { field: 'fields/2', message: 'amount is listed twice' },
    ]);
    const parsed = ContactRequiredFieldsSchema.safeParse({ fields: ['lastname'] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['fields', 0]);
  });
});
