import { describe, expect, it } from '@jest/globals';
import { detectDelimiter } from '../../domain/import/delimiter';
import { detectField, parseMapEntry, resolveMapping } from '../../domain/import/fields';

describe('detectField', () => {
  it.each([
    ['E-mail', 'email'],
    ['Email Address', 'email'],
    ['E-Mail-Adresse', 'email'],
    ['First Name', 'firstName'],
    ['first_name', 'firstName'],
    ['Vorname', 'firstName'],
    ['Prénom', 'firstName'],
    ['Last Name', 'lastName'],
    ['Surname', 'lastName'],
    ['Mobile', 'phone'],
    ['Phone Number', 'phone'],
    ['Handy', 'phone'],
    ['Company', 'companyName'],
    ['Organisation', 'companyName'],
    ['Website', 'companyDomain'],
    ['Lifecycle Stage', 'lifecycleStage'],
    ['Lead Source', 'source'],
    ['Tags', 'tags'],
    ['Time Zone', 'timeZone'],
    ['Country', 'country'],
    ['Full Name', 'name'],
  ])('reads the header %s as %s', (header, field) => {
    expect(detectField(header)).toBe(field);
  });

  it('recognises nothing in a header it does not know, so the column is left out rather than guessed', () => {
    expect(detectField('Favourite colour')).toBeNull();
    expect(detectField('')).toBeNull();
  });
});

describe('parseMapEntry', () => {
  it('splits at the last colon so a header with a colon still maps', () => {
    expect(parseMapEntry('Phone: work:phone')).toEqual({ ok: true, value: { column: 'Phone: work', field: 'phone' } });
  });

  it('accepts custom fields and ignore', () => {
    expect(parseMapEntry('Shirt size:custom.shirtSize')).toEqual({ ok: true, value: { column: 'Shirt size', field: 'custom.shirtSize' } });
    expect(parseMapEntry('Notes:ignore')).toEqual({ ok: true, value: { column: 'Notes', field: 'ignore' } });
  });

  it('refuses an unknown field, a bad custom field name and a missing column, saying why', () => {
    expect(parseMapEntry('E-mail:mail')).toMatchObject({ ok: false, reason: expect.stringContaining('"mail" is not a field') });
    expect(parseMapEntry('Size:custom.1size')).toMatchObject({ ok: false });
    expect(parseMapEntry(':email')).toMatchObject({ ok: false, reason: '":email" is not <column>:<field>' });
  });
});

describe('resolveMapping', () => {
  it('detects the usual headers and lists the columns that fill nothing', () => {
    const resolved = resolveMapping(['E-mail', 'First Name', 'Mobile', 'Company', 'Notes'], []);
    expect(resolved.errors).toEqual([]);
    expect(resolved.mapping).toEqual([
      { index: 0, column: 'E-mail', field: 'email' },
      { index: 1, column: 'First Name', field: 'firstName' },
      { index: 2, column: 'Mobile', field: 'phone' },
      { index: 3, column: 'Company', field: 'companyName' },
    ]);
    expect(resolved.unmapped).toEqual(['Notes']);
  });

  it('lets an explicit mapping name a column ignoring case, map custom fields, and ignore a detected column', () => {
    const resolved = resolveMapping(['Email', 'Shirt Size', 'Company'], [
      { column: 'shirt size', field: 'custom.shirtSize' },
      { column: 'Company', field: 'ignore' },
    ]);
    expect(resolved.errors).toEqual([]);
    expect(resolved.mapping.map((entry) => [entry.column, entry.field])).toEqual([['Email', 'email'], ['Shirt Size', 'custom.shirtSize']]);
    expect(resolved.unmapped).toEqual(['Company']);
  });

  it('maps two email columns to two addresses of one contact', () => {
    const resolved = resolveMapping(['Email', 'Work Email'], []);
    expect(resolved.errors).toEqual([]);
    expect(resolved.mapping.map((entry) => entry.field)).toEqual(['email', 'email']);
  });

  it('prefers the column the caller mapped over one that only looks like the same field', () => {
    const resolved = resolveMapping(['Email', 'First Name', 'Given'], [{ column: 'Given', field: 'firstName' }]);
    expect(resolved.errors).toEqual([]);
    expect(resolved.mapping).toEqual([{ index: 0, column: 'Email', field: 'email' }, { index: 2, column: 'Given', field: 'firstName' }]);
    expect(resolved.unmapped).toEqual(['First Name']);
  });

  it('refuses two detected columns for one single-valued field, naming both', () => {
    const resolved = resolveMapping(['Email', 'Company', 'Organisation'], []);
    expect(resolved.errors).toEqual([
      { field: 'query.map', message: 'columns "Company" and "Organisation" all map to companyName; map all but one to another field or to ignore' },
    ]);
  });

  it('refuses a mapping of a column the file does not have, listing its columns', () => {
    expect(resolveMapping(['Email'], [{ column: 'Mail', field: 'email' }]).errors).toEqual([
      { field: 'query.map', message: '"Mail" is not a column of the file; its columns are "Email"' },
    ]);
  });

  it('refuses a file where no column gives a contact an email address or phone number', () => {
    expect(resolveMapping(['First Name', 'Last Name'], []).errors).toEqual([
      { field: 'query.map', message: 'no column maps to email or phone, and a contact needs one: map a column with map=<column>:email or map=<column>:phone' },
    ]);
  });
});

describe('detectDelimiter', () => {
  it.each([
    ['email,first name,phone', ','],
    ['email;first name;phone', ';'],
    ['email\tfirst name\tphone', '\t'],
    ['email|first name|phone', '|'],
    ['"Name, full";Email;Phone', ';'],
    ['email', ','],
  ])('reads %j as separated by %j', (line, delimiter) => {
    expect(detectDelimiter(line)).toBe(delimiter);
  });
});
