import { describe, expect, it } from '@jest/globals';
import { normalizeCountryCode } from '../../domain/country';
import { resolveMapping } from '../../domain/import/fields';
import { normalizeImportRow, parseLifecycleStage, splitPersonName, type ImportedContact, type RowProblem } from '../../domain/import/row';

const header = ['Email', 'Phone', 'First Name', 'Last Name', 'Name', 'Company', 'Website', 'Stage', 'Tags', 'Time Zone', 'Country', 'Shirt'];
const { mapping } = resolveMapping(header, [{ column: 'Shirt', field: 'custom.shirtSize' }]);

function row(values: Partial<Record<(typeof header)[number], string>>, defaultCountry: string | null = null) {
  return normalizeImportRow(header.map((column) => values[column] ?? ''), 7, mapping, header.length, defaultCountry);
}

function contact(values: Partial<Record<(typeof header)[number], string>>, defaultCountry: string | null = null): ImportedContact {
  const result = row(values, defaultCountry);
  if (!result.ok) throw new Error(`expected a valid row, got ${JSON.stringify(result.problems)}`);
  return result.contact;
}

function problems(values: Partial<Record<(typeof header)[number], string>>, defaultCountry: string | null = null): RowProblem[] {
  const result = row(values, defaultCountry);
  if (result.ok) throw new Error('expected the row to be rejected');
  return result.problems;
}

describe('normalizeImportRow', () => {
  it('normalises like the API: lower-case email, E.164 phone, standard name case, trimmed and collapsed whitespace', () => {
    expect(contact({ Email: '  Jane.Doe@Example.COM ', Phone: '(415) 555-0132', 'First Name': 'JANE', 'Last Name': "o'brien", Company: '  Acme   GmbH ' }, 'US')).toEqual({
      line: 7,
      emails: [{ value: 'jane.doe@example.com', column: 'Email' }],
      phones: [{ value: '+14155550132', column: 'Phone' }],
      firstName: 'Jane',
      lastName: "O'Brien",
      companyName: 'Acme GmbH',
      companyKey: 'acme',
      companyDomain: null,
      lifecycleStage: null,
      source: null,
      tags: [],
      timeZone: null,
      country: null,
      customFields: {},
    });
  });

  it.each([
    ['+44 (0)20 7946 0958', null, '+442079460958'],
    ['0049 30 901820', 'DE', '+4930901820'],
    ['030 901820', 'DE', '+4930901820'],
    ['011 44 20 7946 0958', 'US', '+442079460958'],
    ['06 12 34 56 78', 'FR', '+33612345678'],
    ['+91 98765 43210', 'US', '+919876543210'],
    ['(415) 555-0132 ext. 12', 'US', '+14155550132'],
  ])('reads the phone %s (default country %s) as %s', (phone, country, e164) => {
    expect(contact({ Phone: phone }, country).phones).toEqual([{ value: e164, column: 'Phone' }]);
  });

  it("reads a national number in the row's own country before the import's default country", () => {
    expect(contact({ Phone: '030 901820', Country: 'Deutschland' }, 'US')).toMatchObject({ phones: [{ value: '+4930901820' }], country: 'DE' });
  });

  it('rejects a national number when neither the row nor the import gives a country, saying how to fix it', () => {
    expect(problems({ Phone: '030 901820' })).toEqual([
      { column: 'Phone', reason: 'is not in international format (+ and country code); set the defaultCountry option or map a country column', value: '030 901820' },
    ]);
  });

  it('rejects a number that Excel turned into scientific notation', () => {
    expect(problems({ Phone: '4.15555E+10' }, 'US')).toEqual([{ column: 'Phone', reason: 'is not a phone number', value: '4.15555E+10' }]);
  });

  it('keeps names written in deliberate mixed case and fixes names typed in one case, accents included', () => {
    expect(contact({ Email: 'a@example.com', 'First Name': 'JOSÉ', 'Last Name': 'ÁLVAREZ-MCDONALD' })).toMatchObject({ firstName: 'José', lastName: 'Álvarez-McDonald' });
    expect(contact({ Email: 'a@example.com', 'First Name': 'DeShawn', 'Last Name': 'van der Berg' })).toMatchObject({ firstName: 'DeShawn', lastName: 'van der Berg' });
    expect(contact({ Email: 'a@example.com', 'First Name': '李', 'Last Name': '小龙' })).toMatchObject({ firstName: '李', lastName: '小龙' });
  });

  it('splits a full name, also written last name first, when there are no first and last name columns', () => {
    expect(contact({ Email: 'a@example.com', Name: 'DOE, JANE' })).toMatchObject({ firstName: 'Jane', lastName: 'Doe' });
    expect(contact({ Email: 'a@example.com', Name: 'jane van der berg' })).toMatchObject({ firstName: 'Jane', lastName: 'van der Berg' });
    expect(contact({ Email: 'a@example.com', Name: 'Ignored Name', 'First Name': 'Jane' })).toMatchObject({ firstName: 'Jane', lastName: null });
  });

  it('takes several addresses from one cell and drops repeats', () => {
    expect(contact({ Email: 'a@example.com; B@example.com, a@example.com' }).emails.map((email) => email.value)).toEqual(['a@example.com', 'b@example.com']);
  });

  it('reads company domains from websites, lifecycle stages by their usual names, tags, time zones, countries and custom fields', () => {
    expect(
      contact({ Email: 'a@example.com', Website: 'https://www.Acme.co.uk/about', Stage: 'Marketing Qualified Lead', Tags: 'vip; Trade-Show', 'Time Zone': 'Europe/Berlin', Country: 'U.S.A.', Shirt: ' XL ' }),
    ).toMatchObject({ companyDomain: 'acme.co.uk', lifecycleStage: 'mql', tags: ['vip', 'trade-show'], timeZone: 'Europe/Berlin', country: 'US', customFields: { shirtSize: 'XL' } });
  });

  it('rejects the whole row with every problem it has, each with its column and the value as written', () => {
    expect(problems({ Email: 'jane@', Phone: '12', Stage: 'hot', Tags: 'VIP Customer', 'Time Zone': 'CET+1', Country: 'Atlantis', Website: 'not a site' }, 'US')).toEqual([
      { column: 'Email', reason: 'is not a valid email address', value: 'jane@' },
      { column: 'Website', reason: 'is not a domain or website address', value: 'not a site' },
      { column: 'Stage', reason: 'is not a lifecycle stage: use lead, mql, sql, customer, at_risk, churned', value: 'hot' },
      { column: 'Tags', reason: '"VIP Customer" is not a tag: tags are 1-64 characters of a-z, 0-9, _, : or -', value: 'VIP Customer' },
      { column: 'Time Zone', reason: 'is not an IANA time zone such as Europe/Berlin', value: 'CET+1' },
      { column: 'Country', reason: 'is not a country: use an ISO 3166-1 code such as DE or a name such as Germany', value: 'Atlantis' },
      { column: 'Phone', reason: 'is not a valid US phone number', value: '12' },
    ]);
  });

  it('rejects a row without an email address or phone number, the contact API\'s requirement', () => {
    expect(problems({ 'First Name': 'Jane' })).toEqual([{ column: null, reason: 'has no email address or phone number; a contact needs one', value: null }]);
  });

  it('rejects a row with more fields than the header, but not one whose extra fields are empty', () => {
    const cells = [...header.map(() => ''), 'surprise'];
    cells[0] = 'a@example.com';
    expect(normalizeImportRow(cells, 3, mapping, header.length, null)).toEqual({
      ok: false,
      problems: [{ column: null, reason: `has ${header.length + 1} fields but the header has ${header.length}`, value: null }],
    });
    cells[header.length] = '';
    expect(normalizeImportRow(cells, 3, mapping, header.length, null).ok).toBe(true);
  });

  it('says when a cell was not UTF-8 text in the file', () => {
    expect(problems({ Email: 'a@example.com', 'First Name': 'Ren\uFFFDe' })).toEqual([
      { column: 'First Name', reason: 'contains characters that are not UTF-8 text: save the file as CSV UTF-8', value: 'Ren\uFFFDe' },
    ]);
  });

  it('enforces the API length limits', () => {
    expect(problems({ Email: 'a@example.com', 'First Name': 'x'.repeat(101) })[0]).toMatchObject({ column: 'First Name', reason: 'is longer than 100 characters' });
  });
});

describe('parseLifecycleStage', () => {
  it.each([
    ['lead', 'lead'], ['MQL', 'mql'], ['Sales Qualified Lead', 'sql'], ['Customer', 'customer'], ['At Risk', 'at_risk'], ['at-risk', 'at_risk'], ['churned', 'churned'],
  ])('reads %s as %s', (raw, stage) => {
    expect(parseLifecycleStage(raw)).toBe(stage);
  });
});

describe('splitPersonName', () => {
  it('reads "Last, First" and "First Last"', () => {
    expect(splitPersonName('Doe, Jane')).toEqual({ firstName: 'Jane', lastName: 'Doe' });
    expect(splitPersonName('Jane Doe')).toEqual({ firstName: 'Jane', lastName: 'Doe' });
  });
});

describe('normalizeCountryCode', () => {
  it.each([
    ['de', 'DE'], ['Germany', 'DE'], ['Deutschland', 'DE'], ['Allemagne', 'DE'], ['UK', 'GB'], ['United Kingdom', 'GB'],
    ['U.S.A.', 'US'], ["Côte d'Ivoire", 'CI'], ['Ivory Coast', 'CI'], ['España', 'ES'], ['Brasil', 'BR'],
  ])('reads %s as %s', (raw, code) => {
    expect(normalizeCountryCode(raw)).toEqual({ ok: true, value: code });
  });

  it('refuses what is not a country', () => {
    expect(normalizeCountryCode('XX')).toEqual({ ok: false, reason: 'is not a country: use an ISO 3166-1 code such as DE or a name such as Germany' });
  });
});
