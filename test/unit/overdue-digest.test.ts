import { describe, expect, it } from '@jest/globals';
import { digestContent, digestSourceKey, localDate } from '../../domain/overdue-digest';

describe('overdue digest content', () => {
  const asOf = new Date('2026-11-25T06:00:00Z');
  const line = (id: string, title: string, dueAt: string, priority = 'normal') => ({ id, title, assigneeName: 'Rita Rep', priority, dueAt: new Date(dueAt) });

  it('keys the digest by manager and the date in the schedule\'s zone', () => {
    expect(digestSourceKey('m-1', localDate(asOf, 'UTC'))).toBe('digest:m-1:2026-11-25');
    // 06:00 UTC is still the evening before in Los Angeles.
    expect(localDate(asOf, 'America/Los_Angeles')).toBe('2026-11-24');
    expect(localDate(asOf, 'not/a-zone')).toBe('2026-11-25');
  });

  it('counts all overdue tasks and lists the given top ones with how late they are', () => {
    const content = digestContent({
      total: 3,
      lines: [line('t-1', 'Call Jane', '2026-11-20T09:00:00Z', 'urgent'), line('t-2', 'Send quote', '2026-11-25T05:00:00Z')],
      asOf,
      managerTimeZone: 'Europe/Berlin',
    });
    expect(content.title).toBe('Review 3 overdue tasks on your team');
    expect(content.description.split('\n')).toEqual([
      '3 open tasks are overdue on your team as of 2026-11-25 07:00 GMT+1.',
      'The 2 most urgent:',
      '- [urgent] Call Jane (Rita Rep), due 2026-11-20 10:00, 4 days overdue (task t-1)',
      '- [normal] Send quote (Rita Rep), due 2026-11-25 06:00, overdue today (task t-2)',
      '... and 1 more.',
    ]);
  });

  it('says "is" and lists them all when they all fit', () => {
    const content = digestContent({ total: 1, lines: [line('t-1', 'Call Jane', '2026-11-24T06:00:00Z')], asOf, managerTimeZone: 'UTC' });
    expect(content.title).toBe('Review 1 overdue task on your team');
    expect(content.description).toContain('1 open task is overdue');
    expect(content.description).toContain('They are:');
    expect(content.description).toContain('1 day overdue');
    expect(content.description).not.toContain('more');
  });

  it('is due at the end of the manager\'s local day', () => {
    expect(digestContent({ total: 1, lines: [], asOf, managerTimeZone: 'Europe/Berlin' }).dueAt.toISOString()).toBe('2026-11-25T22:59:59.999Z');
  });
});
