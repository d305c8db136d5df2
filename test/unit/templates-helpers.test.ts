import { describe, expect, it } from '@jest/globals';
import { templatesRoot } from '../../activities/templates';
import { TemplateEngine } from '../../activities/templates/engine';
import { firstNameOf } from '../../activities/templates/helpers';
import type { RenderContext } from '../../domain/template-variables';

const engine = new TemplateEngine(templatesRoot);

/** Renders `source` as an SMS (plain text, no layout), returning the text and helper warnings. */
function render(source: string, context: RenderContext = {}): { text: string; warnings: string[] } {
  const content = engine.compile('test', 'sms', { text: source });
  return engine.renderSms('test', content, context);
}

const nbsp = '\u00a0';

describe('default', () => {
  it('uses the fallback for a missing, null or empty value and keeps anything else', () => {
    expect(render('Hi {{default contact.firstName "there"}}').text).toBe('Hi there');
    expect(render('Hi {{default contact.firstName "there"}}', { contact: { firstName: '' } }).text).toBe('Hi there');
    expect(render('Hi {{default contact.firstName "there"}}', { contact: { firstName: 'Ada' } }).text).toBe('Hi Ada');
    expect(render('{{default contact.customFields.visits "none"}}', { contact: { customFields: { visits: 0 } } }).text).toBe('0');
  });
});

describe('formatDate', () => {
  const renewal = { customFields: { renewal: '2025-03-01T23:30:00Z' } };

  it('shows a timestamp in the contact\'s time zone and locale', () => {
    const berlin = render('{{formatDate contact.customFields.renewal "DATE_MED"}}', { contact: { ...renewal, timeZone: 'Europe/Berlin', locale: 'de-DE' } });
    expect(berlin.text).toBe('2. März 2025'); // 23:30 UTC is already the next day in Berlin
    const newYork = render('{{formatDate contact.customFields.renewal "DATE_MED"}}', { contact: { ...renewal, timeZone: 'America/New_York', locale: 'en-US' } });
    expect(newYork.text).toBe('Mar 1, 2025');
  });

  it('defaults to DATE_MED, UTC and en-US', () => {
    expect(render('{{formatDate contact.customFields.renewal}}', { contact: renewal }).text).toBe('Mar 1, 2025');
  });

  it('takes a Luxon pattern as well as a preset', () => {
    expect(render('{{formatDate contact.customFields.renewal "yyyy-MM-dd HH:mm"}}', { contact: { ...renewal, timeZone: 'Asia/Tokyo' } }).text).toBe('2025-03-02 08:30');
  });

  it('keeps a date without a time on its day, whatever the zone', () => {
    expect(render('{{formatDate contact.customFields.day "DATE_SHORT"}}', { contact: { customFields: { day: '2025-03-01' }, timeZone: 'Pacific/Honolulu' } }).text).toBe('3/1/2025');
  });

  it('renders an empty value as nothing and an unreadable one as nothing with a warning', () => {
    expect(render('[{{formatDate contact.customFields.none}}]')).toEqual({ text: '[]', warnings: [], context: expect.anything() });
    const bad = render('[{{formatDate contact.customFields.day}}]', { contact: { customFields: { day: 'next tuesday' } } });
    expect(bad.text).toBe('[]');
    expect(bad.warnings).toEqual(['text: line 1, column 2: formatDate: "next tuesday" is not a date; it renders empty']);
  });
});

describe('formatCurrency', () => {
  it('formats for the contact\'s locale, falling back to en-US', () => {
    expect(render('{{formatCurrency contact.customFields.balance "EUR"}}', { contact: { customFields: { balance: 1234.5 }, locale: 'de-DE' } }).text).toBe(`1.234,50${nbsp}€`);
    expect(render('{{formatCurrency contact.customFields.balance "EUR"}}', { contact: { customFields: { balance: 1234.5 } } }).text).toBe('€1,234.50');
    expect(render('{{formatCurrency contact.customFields.balance "JPY"}}', { contact: { customFields: { balance: '1500' } } }).text).toBe('¥1,500');
  });

  it('warns and renders nothing for a value that is not an amount', () => {
    const result = render('{{formatCurrency contact.customFields.balance "USD"}}', { contact: { customFields: { balance: 'lots' } } });
    expect(result.text).toBe('');
    expect(result.warnings[0]).toContain('formatCurrency: "lots" is not an amount');
  });
});

describe('firstName', () => {
  it('takes the first name from a full name', () => {
    expect(render('{{firstName contact.fullName}}', { contact: { fullName: 'Ada Lovelace' } }).text).toBe('Ada');
  });

  it.each([
    ['ada lovelace', 'Ada'],
    ['  Dr. Grace   Hopper ', 'Grace'],
    ['Lovelace, Ada', 'Ada'],
    ['JEAN-LUC PICARD', 'Jean-Luc'],
    ['Prof Mx Sam Smith', 'Sam'],
    ['', ''],
    [null, ''],
  ])('%p → %p', (fullName, expected) => {
    expect(firstNameOf(fullName)).toBe(expected);
  });
});

describe('unsubscribeUrl and preferencesUrl', () => {
  it('print the links the sender put in the context, or nothing on a transactional message', () => {
    const links = { unsubscribe: 'https://t.example/u/abc', preferences: 'https://t.example/u/abc?view=preferences' };
    expect(render('{{unsubscribeUrl}} {{preferencesUrl}}', { links }).text).toBe(`${links.unsubscribe} ${links.preferences}`);
    expect(render('[{{unsubscribeUrl}}]').text).toBe('[]');
  });

  it('are escaped like any value in HTML', () => {
    const content = engine.compile('test', 'email', { subject: 's', html: '<a href="{{unsubscribeUrl}}">x</a>' });
    const { html } = engine.renderEmail('test', content, { links: { unsubscribe: 'https://t.example/u?a=1&b=2' } });
    expect(html).toContain('href="https://t.example/u?a&#x3D;1&amp;b&#x3D;2"');
  });
});
