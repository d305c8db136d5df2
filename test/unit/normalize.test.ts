import { describe, expect, it } from '@jest/globals';
import { normalizeCompanyName, normalizeDomain, normalizeEmail, normalizeName, normalizePhone, splitFullName } from '../../domain/normalize';

describe('normalizeEmail', () => {
  it('lower-cases the whole address so the same person lands on the same key', () => {
    expect(normalizeEmail('Jane.Doe@Example.COM')).toEqual({ ok: true, value: 'jane.doe@example.com' });
  });

  it('trims surrounding spaces, tabs and newlines', () => {
    expect(normalizeEmail('  \tjane@example.com \n')).toEqual({ ok: true, value: 'jane@example.com' });
  });

  it.each([
    'jane+newsletter@example.com',
    'o\'brien@example.ie',
    'first.middle.last@mail.example.co.uk',
    'x@a-b.io',
    'a@b.co',
  ])('accepts the ordinary address %s', (address) => {
    expect(normalizeEmail(address)).toEqual({ ok: true, value: address });
  });

  it('rejects an empty or whitespace-only value as empty', () => {
    expect(normalizeEmail('')).toEqual({ ok: false, reason: 'is empty' });
    expect(normalizeEmail('   ')).toEqual({ ok: false, reason: 'is empty' });
  });

  it('accepts a 254-character address but rejects a 255-character one as too long', () => {
    const domain = `${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(63)}.com`; // 195 characters, so the local part stays under 64
    const fits = `${'a'.repeat(254 - domain.length - 1)}@${domain}`;
    const tooLong = `${'a'.repeat(255 - domain.length - 1)}@${domain}`;
    expect(fits).toHaveLength(254);
    expect(normalizeEmail(fits)).toEqual({ ok: true, value: fits });
    expect(tooLong).toHaveLength(255);
    expect(normalizeEmail(tooLong)).toEqual({ ok: false, reason: 'is longer than 254 characters' });
  });

  it('accepts a 64-character local part but rejects a 65-character one', () => {
    expect(normalizeEmail(`${'a'.repeat(64)}@example.com`).ok).toBe(true);
    expect(normalizeEmail(`${'a'.repeat(65)}@example.com`)).toEqual({
      ok: false,
      reason: 'has a local part longer than 64 characters',
    });
  });

  it.each([
    ['no @ at all', 'jane.example.com'],
    ['two @ signs', 'jane@doe@example.com'],
    ['nothing before the @', '@example.com'],
    ['nothing after the @', 'jane@'],
    ['a domain without a dot', 'jane@localhost'],
    ['a one-letter top-level domain', 'jane@example.c'],
    ['a numeric top-level domain', 'jane@example.123'],
    ['two dots in a row in the local part', 'jane..doe@example.com'],
    ['a leading dot in the local part', '.jane@example.com'],
    ['a trailing dot in the local part', 'jane.@example.com'],
    ['two dots in a row in the domain', 'jane@example..com'],
    ['a domain label starting with a hyphen', 'jane@-example.com'],
    ['a domain label ending with a hyphen', 'jane@example-.com'],
    ['a space inside', 'jane doe@example.com'],
    ['a quoted local part', '"jane"@example.com'],
    ['an IP literal domain', 'jane@[192.168.0.1]'],
    ['a display name with angle brackets', 'Jane <jane@example.com>'],
    ['a comma between two addresses', 'jane@example.com,joe@example.com'],
    ['a non-ASCII domain', 'jane@münchen.de'],
    ['a trailing dot after the domain', 'jane@example.com.'],
  ])('rejects an address with %s as not valid', (_kind, address) => {
    expect(normalizeEmail(address)).toEqual({ ok: false, reason: 'is not a valid email address' });
  });
});

describe('normalizePhone', () => {
  it('reads an international US number with spaces as +1 E.164 without a default country', () => {
    expect(normalizePhone('+1 415 555 0123')).toEqual({ ok: true, value: '+14155550123' });
  });

  it('reads a US number written with parentheses and a dash as +1... when the default country is US', () => {
    expect(normalizePhone('(415) 555-0123', 'US')).toEqual({ ok: true, value: '+14155550123' });
  });

  it('reads a US number written with dots as +1... when the default country is US', () => {
    expect(normalizePhone('415.555.0123', 'US')).toEqual({ ok: true, value: '+14155550123' });
  });

  it('reads a German number written without country code as +49 when the default country is DE', () => {
    expect(normalizePhone('030 12345678', 'DE')).toEqual({ ok: true, value: '+493012345678' });
  });

  it('reads a German mobile number written with a dash as +49', () => {
    expect(normalizePhone('0151-12345678', 'DE')).toEqual({ ok: true, value: '+4915112345678' });
  });

  it('reads a British landline written with the trunk 0 as +44 without the 0', () => {
    expect(normalizePhone('020 7946 0958', 'GB')).toEqual({ ok: true, value: '+442079460958' });
  });

  it('reads a French mobile written in pairs as +33', () => {
    expect(normalizePhone('06 12 34 56 78', 'FR')).toEqual({ ok: true, value: '+33612345678' });
  });

  it('reads an Indian mobile number as +91', () => {
    expect(normalizePhone('98765 43210', 'IN')).toEqual({ ok: true, value: '+919876543210' });
  });

  it('reads a Japanese mobile number written with dashes as +81 without the trunk 0', () => {
    expect(normalizePhone('090-1234-5678', 'JP')).toEqual({ ok: true, value: '+819012345678' });
  });

  it('reads a Tokyo landline as +81 3...', () => {
    expect(normalizePhone('03-1234-5678', 'JP')).toEqual({ ok: true, value: '+81312345678' });
  });

  it('keeps the country written in the number even when the default country differs', () => {
    expect(normalizePhone('+49 30 12345678', 'US')).toEqual({ ok: true, value: '+493012345678' });
  });

  it('reads the same person\'s number to the same key whatever formatting was used', () => {
    const forms = ['+1 (415) 555-0123', '+1-415-555-0123', '  +14155550123  ', '1 415 555 0123'];
    expect(forms.map((form) => normalizePhone(form, 'US'))).toEqual(forms.map(() => ({ ok: true, value: '+14155550123' })));
  });

  it('rejects a national number without a default country and says a country code is needed', () => {
    const result = normalizePhone('030 12345678');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/international format/);
  });

  it('ignores an unknown default country and then needs the international format', () => {
    const result = normalizePhone('030 12345678', 'XX');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/no default country/);
  });

  it('rejects plain text as not a phone number', () => {
    expect(normalizePhone('call me maybe', 'US')).toEqual({ ok: false, reason: 'is not a phone number' });
  });

  it('rejects an empty or whitespace-only value as empty', () => {
    expect(normalizePhone('', 'US')).toEqual({ ok: false, reason: 'is empty' });
    expect(normalizePhone('   ', 'US')).toEqual({ ok: false, reason: 'is empty' });
  });

  it('rejects a US number that is too short and names the country in the reason', () => {
    expect(normalizePhone('555-0123', 'US')).toEqual({ ok: false, reason: 'is not a valid US phone number' });
  });

  it('rejects a German number with too few digits', () => {
    const result = normalizePhone('030 12', 'DE');
    expect(result.ok).toBe(false);
  });

  it('rejects a +1 number whose area code does not exist', () => {
    const result = normalizePhone('+1 111 555 0123');
    expect(result.ok).toBe(false);
  });
});

describe('normalizeName', () => {
  it('trims and collapses runs of spaces, tabs and newlines to one space', () => {
    expect(normalizeName('  Jane \t\n  Doe  ')).toBe('Jane Doe');
  });

  it('returns an empty string for whitespace only', () => {
    expect(normalizeName(' \t ')).toBe('');
  });

  it('capitalises a name typed in ALL CAPS', () => {
    expect(normalizeName('JANE DOE')).toBe('Jane Doe');
  });

  it('capitalises a name typed all in lower case', () => {
    expect(normalizeName('jane doe')).toBe('Jane Doe');
  });

  it('capitalises accented letters in an ALL CAPS name', () => {
    expect(normalizeName('ÉMILE ZOLA')).toBe('Émile Zola');
  });

  it('writes o\'brien as O\'Brien with a capital after the apostrophe', () => {
    expect(normalizeName("o'brien")).toBe("O'Brien");
    expect(normalizeName("O'BRIEN")).toBe("O'Brien");
  });

  it('writes o’brien with the typographic apostrophe phones insert as O’Brien', () => {
    expect(normalizeName('o’brien')).toBe('O’Brien');
  });

  it('writes mcdonald as McDonald', () => {
    expect(normalizeName('MCDONALD')).toBe('McDonald');
    expect(normalizeName('ronald mcdonald')).toBe('Ronald McDonald');
  });

  it('capitalises each part of a hyphenated name', () => {
    expect(normalizeName('JEAN-LUC PICARD')).toBe('Jean-Luc Picard');
    expect(normalizeName('mary smith-jones')).toBe('Mary Smith-Jones');
  });

  it('keeps particles such as "van der" and "de la" lower case inside a name', () => {
    expect(normalizeName('JANE VAN DER BERG')).toBe('Jane van der Berg');
    expect(normalizeName('jean de la fontaine')).toBe('Jean de la Fontaine');
    expect(normalizeName('ludwig von mises')).toBe('Ludwig von Mises');
  });

  it('capitalises a particle when it starts the value', () => {
    expect(normalizeName('van der berg')).toBe('Van der Berg');
  });

  it.each(['DeShawn', 'McKenzie', 'van der Berg', 'LaToya Jackson', 'deMarco'])('keeps the deliberate mixed case of %s as typed', (name) => {
    expect(normalizeName(name)).toBe(name);
  });

  it('leaves names in scripts without case unchanged', () => {
    expect(normalizeName('山田 太郎')).toBe('山田 太郎');
  });

  it('composes decomposed accents (NFD) into single characters (NFC)', () => {
    const decomposed = 'Jose\u0301';
    expect(normalizeName(decomposed)).toBe('Jos\u00e9');
  });
});

describe('splitFullName', () => {
  it('splits at the first space into first and last name', () => {
    expect(splitFullName('Jane Doe')).toEqual({ firstName: 'Jane', lastName: 'Doe' });
  });

  it('keeps everything after the first name as the last name, particles included', () => {
    expect(splitFullName('jane van der berg')).toEqual({ firstName: 'Jane', lastName: 'van der Berg' });
  });

  it('returns only a first name for a single word', () => {
    expect(splitFullName('  CHER ')).toEqual({ firstName: 'Cher' });
  });

  it('returns no names for a blank value', () => {
    expect(splitFullName('   ')).toEqual({});
  });

  it('normalises before splitting, so extra spaces do not produce an empty first name', () => {
    expect(splitFullName('   JANE    DOE ')).toEqual({ firstName: 'Jane', lastName: 'Doe' });
  });
});

describe('normalizeDomain', () => {
  it('lower-cases a bare domain', () => {
    expect(normalizeDomain('Example.COM')).toBe('example.com');
  });

  it('strips scheme, www., path, query and fragment from a URL', () => {
    expect(normalizeDomain('https://www.Example.com/pricing?plan=pro#top')).toBe('example.com');
  });

  it('strips a port from a URL', () => {
    expect(normalizeDomain('http://example.com:8080/login')).toBe('example.com');
  });

  it('reduces a subdomain to the registrable domain by the public suffix list', () => {
    expect(normalizeDomain('shop.example.co.uk')).toBe('example.co.uk');
    expect(normalizeDomain('https://eu.mail.Acme.com/inbox')).toBe('acme.com');
  });

  it('keeps a site under a private suffix apart from its host\'s other customers', () => {
    expect(normalizeDomain('acme.github.io')).toBe('acme.github.io');
    expect(normalizeDomain('shop.acme.myshopify.com')).toBe('acme.myshopify.com');
  });

  it('trims surrounding whitespace', () => {
    expect(normalizeDomain('  example.org  ')).toBe('example.org');
  });

  it.each([
    ['a host without a dot', 'localhost'],
    ['text with spaces', 'not a domain'],
    ['an email address', 'jane@example.com'],
    ['an empty value', ''],
    ['a label starting with a hyphen', '-example.com'],
    ['an IP address', '192.168.0.1'],
  ])('returns undefined for %s', (_kind, raw) => {
    expect(normalizeDomain(raw)).toBeUndefined();
  });
});

describe('normalizeCompanyName', () => {
  it('trims and collapses whitespace and keeps the case and legal form as written', () => {
    expect(normalizeCompanyName('  Acme \t  GmbH & Co.  KG ')).toBe('Acme GmbH & Co. KG');
    expect(normalizeCompanyName('eBay Inc.')).toBe('eBay Inc.');
  });
});
