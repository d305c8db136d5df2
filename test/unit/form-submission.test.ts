import { describe, expect, it } from '@jest/globals';
import type { FieldError } from '../../domain/errors';
import { parseFormSubmission, type FormRules, type FormSubmission } from '../../domain/schemas/form-submission';

const baseRules: FormRules = {
  key: 'contact-us',
  defaultCountry: 'US',
  contactRequirement: 'email_or_phone',
  requiredFields: [],
  allowCustomFields: false,
  honeypotField: 'website',
};

const rulesWith = (overrides: Partial<FormRules>): FormRules => ({ ...baseRules, ...overrides });

function accepted(rules: FormRules, body: unknown): FormSubmission {
  const result = parseFormSubmission(rules, body);
  if (!result.ok) throw new Error(`expected the submission to be accepted, got ${JSON.stringify(result.errors)}`);
  return result.value;
}

function rejected(rules: FormRules, body: unknown): FieldError[] {
  const result = parseFormSubmission(rules, body);
  if (result.ok) throw new Error(`expected the submission to be rejected, got ${JSON.stringify(result.value)}`);
  return result.errors;
}

const fields = (errors: FieldError[]): string[] => errors.map((error) => error.field);

describe('parseFormSubmission', () => {
  describe('the body', () => {
    it.each([
      ['null', null],
      ['undefined', undefined],
      ['a string', 'email=jane@example.com'],
      ['a number', 42],
      ['a boolean', true],
    ])('rejects %s as a body with one error on the whole body', (_kind, body) => {
      expect(rejected(baseRules, body)).toEqual([{ field: '', message: 'the body must be a JSON object or a URL-encoded form' }]);
    });

    it('rejects an array even though it is an object', () => {
      expect(rejected(baseRules, [{ email: 'jane@example.com' }])).toEqual([
        { field: '', message: 'the body must be a JSON object or a URL-encoded form' },
      ]);
    });

    it('accepts an object without prototype, as URL-encoded parsers produce', () => {
      const body: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      body.email = 'jane@example.com';
      expect(accepted(baseRules, body).email).toBe('jane@example.com');
    });
  });

  describe('a valid submission', () => {
    it('normalises every standard field and fills consent, customFields and isSpam', () => {
      const value = accepted(baseRules, {
        email: ' Jane.Doe@Example.com ',
        phone: '(415) 555-0123',
        firstName: 'JANE',
        lastName: 'doe',
        company: '  Acme Inc  ',
        pageUrl: 'https://example.com/pricing',
        referrer: 'https://google.com/',
        utmSource: ' google ',
        utmMedium: 'cpc',
        utmCampaign: 'spring',
        consent: true,
        submissionId: 'abc-123',
      });
      expect(value).toEqual({
        email: 'jane.doe@example.com',
        phone: '+14155550123',
        firstName: 'Jane',
        lastName: 'Doe',
        company: 'Acme Inc',
        pageUrl: 'https://example.com/pricing',
        referrer: 'https://google.com/',
        utmSource: 'google',
        utmMedium: 'cpc',
        utmCampaign: 'spring',
        consent: true,
        submissionId: 'abc-123',
        customFields: {},
        isSpam: false,
      });
    });

    it('sets consent to false when the checkbox was not sent', () => {
      expect(accepted(baseRules, { email: 'jane@example.com' }).consent).toBe(false);
    });

    it('reads a phone without country code using the form\'s default country', () => {
      expect(accepted(rulesWith({ defaultCountry: 'DE' }), { phone: '030 12345678' }).phone).toBe('+493012345678');
    });
  });

  describe('email and phone', () => {
    it('rejects a bad email and names the email field', () => {
      const errors = rejected(baseRules, { email: 'jane@' });
      expect(errors).toHaveLength(1);
      expect(errors[0]?.field).toBe('email');
      expect(errors[0]?.message).toMatch(/not a valid email address/);
    });

    it('rejects a bad phone and names the phone field', () => {
      const errors = rejected(baseRules, { phone: 'call me' });
      expect(errors).toEqual([{ field: 'phone', message: '"call me" is not a phone number' }]);
    });

    it('rejects a national phone number when the form has no default country, naming phone', () => {
      const errors = rejected(rulesWith({ defaultCountry: null }), { phone: '030 12345678' });
      expect(fields(errors)).toEqual(['phone']);
      expect(errors[0]?.message).toMatch(/international format/);
    });

    it('rejects a bad email even when a valid phone satisfies email_or_phone', () => {
      expect(fields(rejected(baseRules, { email: 'not-an-email', phone: '+14155550123' }))).toEqual(['email']);
    });

    it('reports only the invalid email, not also "required", when email is required', () => {
      expect(fields(rejected(rulesWith({ contactRequirement: 'email' }), { email: 'bad' }))).toEqual(['email']);
    });

    it('reports both a bad email and a bad phone', () => {
      expect(fields(rejected(baseRules, { email: 'bad', phone: 'bad' }))).toEqual(['email', 'phone']);
    });

    it('rejects an email that is not a string and names the email field', () => {
      expect(fields(rejected(baseRules, { email: ['jane@example.com'] }))).toEqual(['email']);
    });
  });

  describe('contactRequirement', () => {
    it('"email": rejects a submission without email, naming email, even when a phone is given', () => {
      expect(rejected(rulesWith({ contactRequirement: 'email' }), { phone: '+14155550123' })).toEqual([
        { field: 'email', message: 'is required' },
      ]);
    });

    it('"email": accepts a submission with email and no phone', () => {
      expect(accepted(rulesWith({ contactRequirement: 'email' }), { email: 'jane@example.com' }).phone).toBeUndefined();
    });

    it('"phone": rejects a submission without phone, naming phone, even when an email is given', () => {
      expect(rejected(rulesWith({ contactRequirement: 'phone' }), { email: 'jane@example.com' })).toEqual([
        { field: 'phone', message: 'is required' },
      ]);
    });

    it('"phone": accepts a submission with phone and no email', () => {
      expect(accepted(rulesWith({ contactRequirement: 'phone' }), { phone: '+14155550123' }).phone).toBe('+14155550123');
    });

    it('"email_or_phone": rejects a submission with neither, naming email', () => {
      expect(rejected(baseRules, { firstName: 'Jane' })).toEqual([
        { field: 'email', message: 'an email address or a phone number is required' },
      ]);
    });

    it('"email_or_phone": accepts a phone alone', () => {
      expect(accepted(baseRules, { phone: '+14155550123' }).email).toBeUndefined();
    });

    it('"email_or_phone": accepts an email alone', () => {
      expect(accepted(baseRules, { email: 'jane@example.com' }).phone).toBeUndefined();
    });

    it('rejects an empty body under email_or_phone', () => {
      expect(fields(rejected(baseRules, {}))).toEqual(['email']);
    });
  });

  describe('empty values', () => {
    it('treats an empty email as absent, so a phone alone is enough', () => {
      const value = accepted(baseRules, { email: '', phone: '+14155550123' });
      expect(value).not.toHaveProperty('email');
    });

    it('treats an empty email as absent and then reports email as required', () => {
      expect(rejected(rulesWith({ contactRequirement: 'email' }), { email: '' })).toEqual([{ field: 'email', message: 'is required' }]);
    });

    it('treats null fields as absent', () => {
      const value = accepted(baseRules, { email: 'jane@example.com', phone: null, company: null });
      expect(value).not.toHaveProperty('phone');
      expect(value).not.toHaveProperty('company');
    });

    it('treats empty optional fields (company, utm, pageUrl) as absent instead of invalid', () => {
      const value = accepted(baseRules, { email: 'jane@example.com', company: '', utmSource: '', pageUrl: '', firstName: '' });
      expect(value).toEqual({ email: 'jane@example.com', consent: false, customFields: {}, isSpam: false });
    });

    it('treats an empty required field as missing and names it', () => {
      expect(rejected(rulesWith({ requiredFields: ['company'] }), { email: 'jane@example.com', company: '' })).toEqual([
        { field: 'company', message: 'is required' },
      ]);
    });
  });

  describe('requiredFields', () => {
    it('rejects a submission missing a required standard field, naming it', () => {
      expect(rejected(rulesWith({ requiredFields: ['firstName', 'company'] }), { email: 'jane@example.com', firstName: 'Jane' })).toEqual([
        { field: 'company', message: 'is required' },
      ]);
    });

    it('reports every missing required field at once', () => {
      expect(fields(rejected(rulesWith({ requiredFields: ['firstName', 'lastName', 'company'] }), { email: 'jane@example.com' }))).toEqual([
        'firstName',
        'lastName',
        'company',
      ]);
    });

    it('counts a required field sent under its snake_case alias as present', () => {
      expect(accepted(rulesWith({ requiredFields: ['firstName'] }), { email: 'jane@example.com', first_name: 'Jane' }).firstName).toBe('Jane');
    });

    it('counts a first name taken from "name" as the required firstName', () => {
      expect(accepted(rulesWith({ requiredFields: ['firstName'] }), { email: 'jane@example.com', name: 'Jane Doe' }).firstName).toBe('Jane');
    });

    it('accepts a form that requires "name" when the name was given', () => {
      const value = accepted(rulesWith({ requiredFields: ['name'] }), { email: 'jane@example.com', name: 'Jane Doe' });
      expect(value).toMatchObject({ firstName: 'Jane', lastName: 'Doe' });
    });

    it('rejects a form that requires "name" when no name was given', () => {
      expect(rejected(rulesWith({ requiredFields: ['name'] }), { email: 'jane@example.com' })).toEqual([{ field: 'name', message: 'is required' }]);
    });

    it('counts a required field as present when consent is false', () => {
      expect(accepted(rulesWith({ requiredFields: ['consent'] }), { email: 'jane@example.com', consent: 'off' }).consent).toBe(false);
    });

    it('reports an invalid required field once, not also as "is required"', () => {
      expect(rejected(rulesWith({ requiredFields: ['pageUrl'] }), { email: 'jane@example.com', pageUrl: 'ftp://x.com' })).toEqual([
        { field: 'pageUrl', message: 'must be an http(s) URL' },
      ]);
    });

    it('reports an invalid required field sent under its alias once, not also as "is required"', () => {
      expect(rejected(rulesWith({ requiredFields: ['firstName'] }), { email: 'jane@example.com', first_name: '   ' })).toEqual([
        { field: 'first_name', message: 'must not be blank' },
      ]);
    });

    it('satisfies a required custom field with a custom field value', () => {
      const rules = rulesWith({ requiredFields: ['budget'], allowCustomFields: true });
      expect(accepted(rules, { email: 'jane@example.com', budget: 5000 }).customFields).toEqual({ budget: 5000 });
      expect(rejected(rules, { email: 'jane@example.com' })).toEqual([{ field: 'budget', message: 'is required' }]);
    });
  });

  describe('unknown and custom fields', () => {
    it('rejects an unknown field, naming it, when the form does not allow custom fields', () => {
      expect(rejected(baseRules, { email: 'jane@example.com', favouriteColour: 'blue' })).toEqual([
        { field: 'favouriteColour', message: 'is not a field of this form' },
      ]);
    });

    it('reports every unknown field, each by name', () => {
      expect(fields(rejected(baseRules, { email: 'jane@example.com', a: '1', b: '2' }))).toEqual(['a', 'b']);
    });

    it('keeps unknown fields as custom fields when the form allows them', () => {
      const rules = rulesWith({ allowCustomFields: true });
      expect(accepted(rules, { email: 'jane@example.com', favouriteColour: 'blue', seats: 12, trial: true }).customFields).toEqual({
        favouriteColour: 'blue',
        seats: 12,
        trial: true,
      });
    });

    it('does not put standard fields into custom fields', () => {
      const value = accepted(rulesWith({ allowCustomFields: true }), { email: 'jane@example.com', company: 'Acme' });
      expect(value.customFields).toEqual({});
      expect(value.company).toBe('Acme');
    });

    it.each([
      ['starts with a digit', '1st_choice'],
      ['starts with an underscore', '_secret'],
      ['contains a dash', 'favourite-colour'],
      ['contains a space', 'favourite colour'],
      ['contains brackets', 'items[0]'],
      ['is longer than 64 characters', `a${'b'.repeat(64)}`],
    ])('rejects a custom field name that %s, naming it', (_kind, name) => {
      const errors = rejected(rulesWith({ allowCustomFields: true }), { email: 'jane@example.com', [name]: 'x' });
      expect(errors).toHaveLength(1);
      expect(errors[0]?.field).toBe(name);
      expect(errors[0]?.message).toMatch(/custom field names start with a letter/);
    });

    it('accepts a custom field name of exactly 64 characters', () => {
      const name = `a${'b'.repeat(63)}`;
      expect(accepted(rulesWith({ allowCustomFields: true }), { email: 'jane@example.com', [name]: 'x' }).customFields).toEqual({ [name]: 'x' });
    });

    it.each([
      ['an object', { nested: true }],
      ['an array', ['a', 'b']],
      ['a string over 2000 characters', 'x'.repeat(2001)],
    ])('rejects %s as a custom field value, naming the field', (_kind, value) => {
      const errors = rejected(rulesWith({ allowCustomFields: true }), { email: 'jane@example.com', notes: value });
      expect(errors).toHaveLength(1);
      expect(errors[0]?.field).toBe('notes');
      expect(errors[0]?.message).toMatch(/custom fields take a string/);
    });

    it('accepts a custom string value of exactly 2000 characters', () => {
      const notes = 'x'.repeat(2000);
      expect(accepted(rulesWith({ allowCustomFields: true }), { email: 'jane@example.com', notes }).customFields.notes).toBe(notes);
    });

    it('accepts 50 custom fields but rejects 51 with an error on the whole body', () => {
      const rules = rulesWith({ allowCustomFields: true });
      const custom = (count: number): Record<string, string> => Object.fromEntries(Array.from({ length: count }, (_, i) => [`field${i}`, 'x']));
      expect(Object.keys(accepted(rules, { email: 'jane@example.com', ...custom(50) }).customFields)).toHaveLength(50);
      expect(rejected(rules, { email: 'jane@example.com', ...custom(51) })).toEqual([{ field: '', message: 'at most 50 custom fields per submission' }]);
    });
  });

  describe('honeypot', () => {
    it('marks a submission whose honeypot field is filled as spam', () => {
      expect(accepted(baseRules, { email: 'jane@example.com', website: 'http://spam.example' }).isSpam).toBe(true);
    });

    it('does not mark an empty honeypot as spam', () => {
      expect(accepted(baseRules, { email: 'jane@example.com', website: '' }).isSpam).toBe(false);
    });

    it('does not mark a whitespace-only honeypot as spam', () => {
      expect(accepted(baseRules, { email: 'jane@example.com', website: '   ' }).isSpam).toBe(false);
    });

    it('marks a non-string honeypot value as spam', () => {
      expect(accepted(baseRules, { email: 'jane@example.com', website: 1 }).isSpam).toBe(true);
    });

    it('does not treat the honeypot as an unknown field or a custom field', () => {
      const value = accepted(rulesWith({ allowCustomFields: true }), { email: 'jane@example.com', website: 'bot' });
      expect(value.customFields).toEqual({});
    });

    it('uses the honeypot field name configured on the form', () => {
      const rules = rulesWith({ honeypotField: 'fax_number' });
      expect(accepted(rules, { email: 'jane@example.com', fax_number: '123' }).isSpam).toBe(true);
      expect(rejected(rules, { email: 'jane@example.com', website: 'x' })).toEqual([{ field: 'website', message: 'is not a field of this form' }]);
    });
  });

  describe('snake_case aliases', () => {
    it('reads first_name, last_name, page_url, utm_* and submission_id into their camelCase fields', () => {
      const value = accepted(baseRules, {
        email: 'jane@example.com',
        first_name: 'jane',
        last_name: 'DOE',
        page_url: 'https://example.com/a',
        utm_source: 'newsletter',
        utm_medium: 'email',
        utm_campaign: 'launch',
        submission_id: 's-1',
      });
      expect(value).toMatchObject({
        firstName: 'Jane',
        lastName: 'Doe',
        pageUrl: 'https://example.com/a',
        utmSource: 'newsletter',
        utmMedium: 'email',
        utmCampaign: 'launch',
        submissionId: 's-1',
      });
      expect(value).not.toHaveProperty('first_name');
      expect(value).not.toHaveProperty('utm_source');
    });

    it('reads full_name like name and splits it', () => {
      expect(accepted(baseRules, { email: 'jane@example.com', full_name: 'Jane Doe' })).toMatchObject({ firstName: 'Jane', lastName: 'Doe' });
    });

    it('names the field as it was sent when an aliased field is invalid', () => {
      expect(rejected(baseRules, { email: 'jane@example.com', page_url: 'not a url' })).toEqual([
        { field: 'page_url', message: 'must be an http(s) URL' },
      ]);
    });
  });

  describe('name', () => {
    it('splits "name" into first and last name', () => {
      const value = accepted(baseRules, { email: 'jane@example.com', name: 'jane van der berg' });
      expect(value).toMatchObject({ firstName: 'Jane', lastName: 'van der Berg' });
      expect(value).not.toHaveProperty('name');
    });

    it('takes a single-word name as the first name only', () => {
      const value = accepted(baseRules, { email: 'jane@example.com', name: 'Cher' });
      expect(value.firstName).toBe('Cher');
      expect(value).not.toHaveProperty('lastName');
    });

    it('ignores "name" when a first name was given separately', () => {
      const value = accepted(baseRules, { email: 'jane@example.com', name: 'Someone Else', firstName: 'Jane' });
      expect(value.firstName).toBe('Jane');
      expect(value).not.toHaveProperty('lastName');
    });

    it('ignores "name" when a last name was given separately', () => {
      const value = accepted(baseRules, { email: 'jane@example.com', name: 'Someone Else', lastName: 'Doe' });
      expect(value.lastName).toBe('Doe');
      expect(value).not.toHaveProperty('firstName');
    });

    it('rejects a whitespace-only first name as blank, naming firstName', () => {
      expect(rejected(baseRules, { email: 'jane@example.com', firstName: '   ' })).toEqual([{ field: 'firstName', message: 'must not be blank' }]);
    });

    it('rejects a first name longer than 100 characters, naming firstName', () => {
      expect(fields(rejected(baseRules, { email: 'jane@example.com', firstName: 'a'.repeat(101) }))).toEqual(['firstName']);
    });
  });

  describe('consent', () => {
    it.each(['on', 'true', 'TRUE', 'yes', '1'])('reads the checkbox string "%s" as consent given', (raw) => {
      expect(accepted(baseRules, { email: 'jane@example.com', consent: raw }).consent).toBe(true);
    });

    it.each(['off', 'false', 'no', '0'])('reads the checkbox string "%s" as consent not given', (raw) => {
      expect(accepted(baseRules, { email: 'jane@example.com', consent: raw }).consent).toBe(false);
    });

    it('accepts a JSON boolean as consent', () => {
      expect(accepted(baseRules, { email: 'jane@example.com', consent: true }).consent).toBe(true);
      expect(accepted(baseRules, { email: 'jane@example.com', consent: false }).consent).toBe(false);
    });

    it('rejects any other consent value, naming consent', () => {
      expect(fields(rejected(baseRules, { email: 'jane@example.com', consent: 'maybe' }))).toEqual(['consent']);
      expect(fields(rejected(baseRules, { email: 'jane@example.com', consent: 1 }))).toEqual(['consent']);
    });
  });

  describe('pageUrl and other standard fields', () => {
    it.each([
      ['a javascript: URL', 'javascript:alert(1)'],
      ['an ftp URL', 'ftp://example.com/file'],
      ['a mailto URL', 'mailto:jane@example.com'],
      ['a relative path', '/pricing'],
      ['plain text', 'example page'],
    ])('rejects %s as pageUrl, naming pageUrl', (_kind, url) => {
      expect(rejected(baseRules, { email: 'jane@example.com', pageUrl: url })).toEqual([{ field: 'pageUrl', message: 'must be an http(s) URL' }]);
    });

    it('accepts http and https page URLs', () => {
      expect(accepted(baseRules, { email: 'jane@example.com', pageUrl: 'http://example.com/' }).pageUrl).toBe('http://example.com/');
      expect(accepted(baseRules, { email: 'jane@example.com', pageUrl: 'https://example.com/a?b=c' }).pageUrl).toBe('https://example.com/a?b=c');
    });

    it('rejects a page URL longer than 2000 characters, naming pageUrl', () => {
      expect(fields(rejected(baseRules, { email: 'jane@example.com', pageUrl: `https://example.com/${'a'.repeat(2000)}` }))).toEqual(['pageUrl']);
    });

    it('rejects a non-string company, naming company', () => {
      expect(fields(rejected(baseRules, { email: 'jane@example.com', company: 5 }))).toEqual(['company']);
    });

    it('rejects a whitespace-only company, naming company', () => {
      expect(fields(rejected(baseRules, { email: 'jane@example.com', company: '   ' }))).toEqual(['company']);
    });

    it('rejects a utm_source longer than 200 characters, naming utm_source', () => {
      expect(fields(rejected(baseRules, { email: 'jane@example.com', utm_source: 'x'.repeat(201) }))).toEqual(['utm_source']);
    });

    it('reports errors in several fields together, each by name', () => {
      const errors = rejected(baseRules, { email: 'bad', pageUrl: 'ftp://x', consent: 'maybe', mystery: 'x' });
      expect(fields(errors).sort()).toEqual(['consent', 'email', 'mystery', 'pageUrl']);
    });
  });
});
