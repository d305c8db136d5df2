import { describe, expect, it } from '@jest/globals';
import { leadTerritory } from '../../domain/lead-territory';

const territoryOf = (source: { country?: string | null; customFields?: unknown; phones?: string[] }) =>
  leadTerritory({ country: source.country ?? null, customFields: source.customFields ?? {}, phones: source.phones ?? [] });

describe('leadTerritory', () => {
  it('takes the country from the primary phone number when nothing else says', () => {
    expect(territoryOf({ phones: ['+4930123456'] })).toEqual({ country: 'DE', region: null });
    expect(territoryOf({ phones: ['+16045550123'] })).toEqual({ country: 'CA', region: null });
  });

  it('uses the first phone whose country is known', () => {
    expect(territoryOf({ phones: ['+80012345678', '+442071234567'] }).country).toBe('GB');
  });

  it('prefers the contact\'s country column over the custom field and the phone', () => {
    expect(territoryOf({ country: 'AT', customFields: { country: 'CH' }, phones: ['+4930123456'] }).country).toBe('AT');
  });

  it('prefers a custom field country, in any case, over the phone', () => {
    expect(territoryOf({ customFields: { country: ' ch ' }, phones: ['+4930123456'] }).country).toBe('CH');
  });

  it('reads a country name in the custom field, and ignores one that is no country', () => {
    expect(territoryOf({ customFields: { country: 'Deutschland' }, phones: ['+14155550123'] }).country).toBe('DE');
    expect(territoryOf({ customFields: { country: 'Atlantis' }, phones: ['+14155550123'] }).country).toBe('US');
    expect(territoryOf({ customFields: { country: 'XX' } }).country).toBeNull();
  });

  it('reads a full region code and takes its country from it', () => {
    expect(territoryOf({ customFields: { region: 'us-ca' } })).toEqual({ country: 'US', region: 'US-CA' });
  });

  it('completes a bare subdivision with the country', () => {
    expect(territoryOf({ customFields: { region: 'BY' }, phones: ['+4930123456'] })).toEqual({ country: 'DE', region: 'DE-BY' });
  });

  it('drops a region that contradicts the country', () => {
    expect(territoryOf({ customFields: { country: 'DE', region: 'US-CA' } })).toEqual({ country: 'DE', region: null });
  });

  it('knows nothing without country, region or phone, and copes with odd custom fields', () => {
    expect(territoryOf({})).toEqual({ country: null, region: null });
    expect(territoryOf({ customFields: null })).toEqual({ country: null, region: null });
    expect(territoryOf({ customFields: { country: 49, region: true } })).toEqual({ country: null, region: null });
    expect(territoryOf({ customFields: { region: 'California' } })).toEqual({ country: null, region: null });
  });
});
