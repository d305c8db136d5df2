import { describe, expect, it } from '@jest/globals';
import {
  blockingKeys,
  canonicalEmail,
  candidateScoreFloor,
  companyMatchKey,
  foldText,
  jaroWinkler,
  matchProfile,
  scoreBlock,
  scorePair,
  workEmailDomain,
  type MatchInput,
} from '../../domain/matching';

let nextId = 0;
function contact(firstName: string | null, lastName: string | null, extra: Partial<MatchInput> = {}) {
  nextId += 1;
  return matchProfile({
    id: `00000000-0000-4000-8000-${String(nextId).padStart(12, '0')}`,
    firstName,
    lastName,
    emails: [],
    phones: [],
    companyId: null,
    companyName: null,
    companyDomain: null,
    country: null,
    customFields: {},
    ...extra,
  });
}

describe('foldText', () => {
  it.each([
    ['José García', 'jose garcia'],
    ['Ørsted Łukasz Straße', 'orsted lukasz strasse'],
    ["O'Brien", 'obrien'],
    ['O’Brien', 'obrien'],
    ['Smith-Jones', 'smith jones'],
    ['  ÉMILE   ZOLA ', 'emile zola'],
  ])('folds %j to %j', (raw, folded) => {
    expect(foldText(raw)).toBe(folded);
  });
});

describe('companyMatchKey', () => {
  it.each([
    ['Acme, Inc.', 'acme'],
    ['ACME Inc', 'acme'],
    ['The Acme Corporation', 'acme'],
    ['Acme LLC', 'acme'],
    ['Acme Ltd.', 'acme'],
    ['Acme Pty Ltd', 'acme'],
    ['Acme GmbH', 'acme'],
    ['ACME GmbH & Co. KG', 'acme'],
    ['Acme AG', 'acme'],
    ['Acme S.A.', 'acme'],
    ['Acme S. A.', 'acme'],
    ['Acme B.V.', 'acme'],
    ['Acme SA de CV', 'acme'],
    ['Société Générale S.A.', 'societegenerale'],
  ])('ignores the legal form, case, accents and punctuation of %j', (name, key) => {
    expect(companyMatchKey(name)).toBe(key);
  });

  it('keeps a name that is nothing but a legal form', () => {
    expect(companyMatchKey('Company')).toBe('company');
    expect(companyMatchKey('AG')).toBe('ag');
  });

  it('reads & as and, so Johnson & Johnson matches Johnson and Johnson', () => {
    expect(companyMatchKey('Johnson & Johnson')).toBe(companyMatchKey('Johnson and Johnson'));
  });
});

describe('emails and domains', () => {
  it('drops +tags and, for Gmail, dots and the googlemail alias', () => {
    expect(canonicalEmail('John.Smith+crm@GoogleMail.com')).toBe('johnsmith@gmail.com');
    expect(canonicalEmail('j.smith+news@acme.com')).toBe('j.smith@acme.com');
  });

  it('reads a work address as its registrable domain and a free mailbox as no company', () => {
    expect(workEmailDomain('jane@eu.mail.acme.co.uk')).toBe('acme.co.uk');
    expect(workEmailDomain('jane@gmail.com')).toBeNull();
    expect(workEmailDomain('jane@yahoo.co.uk')).toBeNull();
    expect(workEmailDomain('jane@gmx.de')).toBeNull();
  });
});

describe('jaroWinkler', () => {
  it('gives the textbook values', () => {
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('dwayne', 'duane')).toBeCloseTo(0.84, 2);
    expect(jaroWinkler('abc', 'abc')).toBe(1);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
  });
});

describe('scorePair', () => {
  it('matches a nickname, and says which', () => {
    const result = scorePair(contact('Bob', 'Smith'), contact('Robert', 'Smith'));
    expect(result.reasons).toEqual(['nickname Bob/Robert']);
    expect(result.score).toBeGreaterThanOrEqual(candidateScoreFloor);
  });

  it.each([
    ['Peggy', 'Margaret'],
    ['Liz', 'Elizabeth'],
    ['Bill', 'William'],
    ['Kate', 'Catherine'],
  ])('knows %s is short for %s', (nickname, formal) => {
    expect(scorePair(contact(nickname, 'Olson'), contact(formal, 'Olson')).reasons).toEqual([`nickname ${nickname}/${formal}`]);
  });

  it('matches transposed first and last names, nickname included', () => {
    const result = scorePair(contact('Smith', 'Robert'), contact('Bob', 'Smith'));
    expect(result.reasons[0]).toMatch(/^transposed names/);
    expect(result.score).toBeGreaterThanOrEqual(candidateScoreFloor);
  });

  it('calls names that differ only in accents an accent variant', () => {
    expect(scorePair(contact('José', 'García'), contact('JOSE', 'GARCIA')).reasons).toEqual(['accent variant José García/JOSE GARCIA']);
  });

  it('calls names that differ in punctuation or spacing a spelling variant', () => {
    expect(scorePair(contact('Jane', 'van der Berg'), contact('Jane', 'Vanderberg')).reasons).toEqual(['spelling variant Jane van der Berg/Jane Vanderberg']);
    expect(scorePair(contact('Liam', "O'Brien"), contact('Liam', 'OBrien')).reasons[0]).toMatch(/^spelling variant/);
  });

  it('scores the same name at the same company domain far above the same name alone', () => {
    const alone = scorePair(contact('Jane', 'Doe'), contact('Jane', 'Doe'));
    const atAcme = scorePair(contact('Jane', 'Doe', { emails: ['jane@acme.com'] }), contact('Jane', 'Doe', { companyName: 'ACME Inc.', companyDomain: 'acme.com' }));
    expect(alone).toEqual({ score: 0.6, reasons: ['same name'] });
    expect(atAcme.reasons).toEqual(['same name', 'same name at same company domain acme.com']);
    expect(atAcme.score).toBeGreaterThan(0.9);
  });

  it('matches the same company written with another legal form', () => {
    const result = scorePair(contact('Jane', 'Doe', { companyName: 'Acme GmbH' }), contact('Jane', 'Doe', { companyName: 'ACME AG' }));
    expect(result.reasons).toContain('same name at same company Acme GmbH');
  });

  it('takes an initial as a match only together with a shared company', () => {
    const alone = scorePair(contact('J.', 'Doe'), contact('Jane', 'Doe'));
    const sameCompany = scorePair(contact('J.', 'Doe', { emails: ['jd@acme.com'] }), contact('Jane', 'Doe', { emails: ['jane.doe@acme.com'] }));
    expect(alone.score).toBeLessThan(candidateScoreFloor);
    expect(sameCompany.reasons).toEqual(['initial J./Jane', 'similar name at same company domain acme.com']);
    expect(sameCompany.score).toBeGreaterThan(0.7);
  });

  it('finds the same phone kept in a custom field in national format (Ireland)', () => {
    const result = scorePair(
      contact('Liam', "O'Brien", { phones: ['+353851234567'] }),
      contact('William', 'OBrien', { phones: ['+353861111111'], customFields: { mobile: '085 123 4567' } }),
    );
    expect(result.reasons).toEqual(['same phone +353851234567', 'nickname Liam/William']);
    expect(result.score).toBeGreaterThan(0.95);
  });

  it.each([
    ['Germany', '+4915112345678', '+49 151 1234 5678', 'DE'],
    ['the United Kingdom', '+447911123456', '07911 123456', 'GB'],
    ['Japan', '+819012345678', '090-1234-5678', 'JP'],
    ['Brazil', '+5511987654321', '(11) 98765-4321', 'BR'],
    ['India', '+919876543210', '098765 43210', 'IN'],
  ])('reads a number from %s written in a custom field by the contact\'s country', (_country, e164, written, country) => {
    const result = scorePair(contact('Anna', 'Schmidt', { phones: [e164] }), contact('Anna', 'Schmidt', { country, customFields: { phone: written } }));
    expect(result.reasons).toEqual([`same phone ${e164}`, 'same name']);
  });

  it('does not read a national number without a country to read it in', () => {
    const result = scorePair(contact('Anna', 'Schmidt', { phones: ['+4915112345678'] }), contact('Anna', 'Schmidt', { customFields: { phone: '0151 12345678' } }));
    expect(result.reasons).toEqual(['same name']);
  });

  it('matches one Gmail mailbox written two ways', () => {
    const result = scorePair(contact('Peggy', 'Olson', { emails: ['peggy.olson+crm@gmail.com'] }), contact('Margaret', 'Olson', { emails: ['peggyolson@googlemail.com'] }));
    expect(result.reasons[0]).toBe('same email written differently peggy.olson+crm@gmail.com/peggyolson@googlemail.com');
    expect(result.score).toBeGreaterThan(0.95);
  });

  it('weighs a shared phone lightly when the first names differ (a household)', () => {
    const household = scorePair(contact('Anna', 'Schmidt', { phones: ['+4930123456'] }), contact('Peter', 'Schmidt', { customFields: { home: '+49 30 123456' } }));
    expect(household.reasons).toEqual(['same phone +4930123456 (different first names)']);
    expect(household.score).toBe(0.5);
  });

  it('does not pair different people who share a last name', () => {
    expect(scorePair(contact('John', 'Smith'), contact('Jane', 'Smith'))).toEqual({ score: 0, reasons: [] });
  });

  it('does not compare names when one contact has no last name', () => {
    expect(scorePair(contact('Jane', null), contact('Jane', 'Doe')).score).toBe(0);
  });
});

describe('blockingKeys', () => {
  const shared = (a: ReturnType<typeof contact>, b: ReturnType<typeof contact>) => blockingKeys(a).filter((key) => blockingKeys(b).includes(key));

  it('puts nicknames, transposed names and accent variants under one name key', () => {
    const bob = contact('Bob', 'Smith');
    expect(shared(bob, contact('Robert', 'Smith'))).toEqual(['n:robert|smith']);
    expect(shared(bob, contact('Smith', 'Bob'))).toEqual(['n:robert|smith']);
    expect(shared(contact('José', 'García'), contact('Jose', 'Garcia'))).toEqual(['n:garcia|jose']);
  });

  it('puts an initial and a first name together only within one organisation', () => {
    expect(shared(contact('J.', 'Doe', { emails: ['jd@acme.com'] }), contact('Jane', 'Doe', { companyDomain: 'acme.com' }))).toEqual(['o:dom:acme.com|doe|j']);
    expect(shared(contact('J.', 'Doe'), contact('Jane', 'Doe'))).toEqual([]);
  });

  it('keys addresses and numbers, from custom fields too', () => {
    const keys = blockingKeys(contact(null, null, { emails: ['a.b+x@gmail.com'], phones: ['+14155550123'], customFields: { work: 'AB@acme.com' } }));
    expect(keys).toEqual(['e:ab@gmail.com', 'e:ab@acme.com', 'p:+14155550123']);
  });

  it('gives a contact without names or addresses no key, so it is compared with nobody', () => {
    expect(blockingKeys(contact('Jane', null))).toEqual([]);
  });
});

describe('scoreBlock', () => {
  it('scores each pair of a block once, in id order, and leaves out pairs under the floor', () => {
    const a = contact('Bob', 'Smith');
    const b = contact('Robert', 'Smith');
    const c = contact('Smith', 'Robert');
    const d = contact('Jane', 'Smith');
    const pairs = scoreBlock([c, d, b, a]);
    expect(pairs.map((pair) => [pair.contactAId, pair.contactBId])).toEqual([
      [a.id, b.id],
      [a.id, c.id],
      [b.id, c.id],
    ]);
  });
});
