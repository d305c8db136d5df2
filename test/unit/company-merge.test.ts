import { describe, expect, it } from '@jest/globals';
import { decideCompanyMerge, type CompanyMergeImage } from '../../domain/company-merge';

const company = (id: string, fields: Partial<CompanyMergeImage> = {}): CompanyMergeImage => ({ id, domain: null, ownerId: null, ...fields });

describe('decideCompanyMerge', () => {
  it('keeps every value the survivor has, whatever the merged companies say', () => {
    const merged = decideCompanyMerge(company('s', { domain: 'acme.com', ownerId: 'u1' }), [company('a', { domain: 'acme.de', ownerId: 'u2' })]);
    expect(merged).toEqual({
      domain: 'acme.com',
      ownerId: 'u1',
      decisions: { domain: { from: 's', rule: 'kept' }, ownerId: { from: 's', rule: 'kept' } },
    });
  });

  it('fills an empty field from the first merged company, in request order, that has a value', () => {
    const merged = decideCompanyMerge(company('s', { ownerId: 'u1' }), [
      company('a'),
      company('b', { domain: 'acme.de', ownerId: 'u2' }),
      company('c', { domain: 'acme.fr' }),
    ]);
    expect(merged.domain).toBe('acme.de');
    expect(merged.ownerId).toBe('u1');
    expect(merged.decisions).toEqual({ domain: { from: 'b', rule: 'filled' }, ownerId: { from: 's', rule: 'kept' } });
  });

  it('leaves a field empty, and undecided, when no company has it', () => {
    const merged = decideCompanyMerge(company('s'), [company('a'), company('b')]);
    expect(merged).toEqual({ domain: null, ownerId: null, decisions: {} });
  });
});
