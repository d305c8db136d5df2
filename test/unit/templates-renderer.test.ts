import { describe, expect, it } from '@jest/globals';
import { TemplateError, TemplateRenderer, htmlToText, smsSegments, templatesRoot, type TemplateRepository } from '../../activities/templates';
import type { TemplateChannel, TemplateParts } from '../../domain/schemas/template';

/** Stored templates in memory, counting content reads: a read means a compile (cache miss). */
class FakeRepository implements TemplateRepository {
  readonly contentReads: string[] = [];
  private readonly templates = new Map<string, { id: string; channel: TemplateChannel; versions: TemplateParts[] }>();

  save(key: string, channel: TemplateChannel, parts: TemplateParts): void {
    const existing = this.templates.get(key);
    if (existing) existing.versions.push(parts);
    else this.templates.set(key, { id: `id-${key}`, channel, versions: [parts] });
  }

  async current(key: string) {
    const template = this.templates.get(key);
    return template ? { id: template.id, channel: template.channel, version: template.versions.length } : null;
  }

  async content(templateId: string, version: number) {
    this.contentReads.push(`${templateId}@${version}`);
    const template = [...this.templates.values()].find((candidate) => candidate.id === templateId);
    return template?.versions[version - 1] ?? null;
  }
}

function rendererWith(repository: FakeRepository): TemplateRenderer {
  return new TemplateRenderer(templatesRoot, repository, { sender: { company: 'Acme', postalAddress: '1 Example Street, Springfield' } });
}

const links = { unsubscribe: 'https://t.example/u/tok123', preferences: 'https://t.example/u/tok123?view=preferences' };

describe('the shipped file templates', () => {
  it('render the welcome email the form workflow sends', async () => {
    const renderer = new TemplateRenderer(templatesRoot);
    const email = await renderer.renderEmail('welcome', {
      contact: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' },
      owner: { name: 'Rita Rep', email: 'rita@example.com' },
      sender: { company: 'Touchpoint' },
    });
    expect(email.subject).toBe('Thanks for getting in touch, Ada');
    expect(email.html).toContain('Rita Rep');
    expect(email.text).toMatch(/^Hi Ada,/);
  });

  it('all pass the strict check', async () => {
    const renderer = new TemplateRenderer(templatesRoot);
    expect(renderer.fileTemplates()).toEqual(expect.arrayContaining([{ key: 'welcome', channel: 'email' }, { key: 'welcome', channel: 'sms' }]));
    for (const file of renderer.fileTemplates()) {
      const parts = await renderer.fileSource(file.channel, file.key);
      expect({ template: `${file.channel}/${file.key}`, errors: renderer.validate(file.channel, parts!) }).toEqual({ template: `${file.channel}/${file.key}`, errors: [] });
    }
  });

  it('include an SMS welcome in plain text', async () => {
    const renderer = new TemplateRenderer(templatesRoot, null, { sender: { company: 'Smith & Sons' } });
    const sms = await renderer.renderSms('welcome', { contact: { firstName: 'Ada' }, owner: { name: 'rita rep', email: 'r@example.com' } });
    expect(sms.text).toBe('Hi Ada, thanks for getting in touch with Smith & Sons. Rita will get back to you within one business day.');
  });
});

describe('escaping', () => {
  it('escapes values in the HTML but not in the subject, the text part or an SMS', async () => {
    const repository = new FakeRepository();
    repository.save('note', 'email', { subject: 'For {{contact.firstName}}', html: '<p>Hi {{contact.firstName}}</p>', text: 'Hi {{contact.firstName}}' });
    repository.save('ping', 'sms', { text: 'Hi {{contact.firstName}}' });
    const renderer = rendererWith(repository);
    const context = { contact: { firstName: 'Tom & <Jerry>' } };

    const email = await renderer.renderEmail('note', context);
    expect(email.subject).toBe('For Tom & <Jerry>');
    expect(email.html).toContain('<p>Hi Tom &amp; &lt;Jerry&gt;</p>');
    expect(email.html).not.toContain('<Jerry>');
    expect(email.text).toBe('Hi Tom & <Jerry>');
    expect((await renderer.renderSms('ping', context)).text).toBe('Hi Tom & <Jerry>');
  });

  it('keeps a subject on one line', async () => {
    const repository = new FakeRepository();
    repository.save('lines', 'email', { subject: 'Hello\n{{contact.firstName}}\r\nthere', html: '<p>x</p>' });
    expect((await rendererWith(repository).renderEmail('lines', { contact: { firstName: 'Ada' } })).subject).toBe('Hello Ada there');
  });
});

describe('the text part', () => {
  it('is derived from the HTML body when the template has none', async () => {
    const repository = new FakeRepository();
    repository.save('news', 'email', {
      subject: 'News',
      html: '<h1>Spring news</h1>\n<p>Hi {{contact.firstName}},\n   here is what is new:</p><ul><li>Faster</li><li>Cheaper</li></ul><p><a href="https://t.example/blog?a=1&amp;b=2">Read more</a> or mail <a href="mailto:help@t.example">help@t.example</a>.</p>',
      text: null,
    });
    const email = await rendererWith(repository).renderEmail('news', { contact: { firstName: 'Tom & Jerry' } });
    expect(email.text).toBe(
      'Spring news\n\nHi Tom & Jerry, here is what is new:\n\n- Faster\n- Cheaper\n\nRead more (https://t.example/blog?a=1&b=2) or mail help@t.example.',
    );
  });

  it('drops head, style and comments and decodes entities once', () => {
    expect(htmlToText('<style>p{color:red}</style><!-- hidden --><p>5 &lt; 6 &amp;amp; &#8364;3&nbsp;&middot; &#x27;ok&#x27;</p>')).toBe("5 < 6 &amp; €3 · 'ok'");
  });
});

describe('the marketing footer', () => {
  it('shows the unsubscribe link and the postal address when the message has an unsubscribe link', async () => {
    const repository = new FakeRepository();
    repository.save('offer', 'email', { subject: 'Offer', html: '<p>20% off</p>' });
    const email = await rendererWith(repository).renderEmail('offer', { links });
    expect(email.html).toContain('<a href="https://t.example/u/tok123" style="color:#7b8794;">Unsubscribe</a>');
    expect(email.html).toContain('Acme &middot; 1 Example Street, Springfield');
    expect(email.html).toContain('Email preferences');
    expect(email.text).toContain('Unsubscribe: https://t.example/u/tok123');
    expect(email.text).toContain('Acme, 1 Example Street, Springfield');
  });

  it('is the plain transactional footer without one', async () => {
    const repository = new FakeRepository();
    repository.save('receipt', 'email', { subject: 'Receipt', html: '<p>Thanks</p>' });
    const email = await rendererWith(repository).renderEmail('receipt', {});
    expect(email.html).not.toContain('Unsubscribe');
    expect(email.html).not.toContain('1 Example Street');
    expect(email.text).toBe('Thanks');
  });
});

describe('stored templates and the compile cache', () => {
  it('prefers a stored template over the file with the same key and channel only', async () => {
    const repository = new FakeRepository();
    repository.save('welcome', 'email', { subject: 'Stored welcome for {{contact.firstName}}', html: '<p>stored</p>' });
    const renderer = rendererWith(repository);
    expect((await renderer.renderEmail('welcome', { contact: { firstName: 'Ada' } })).subject).toBe('Stored welcome for Ada');
    // The SMS welcome is still the file one: the stored "welcome" is an email template.
    expect((await renderer.renderSms('welcome', { contact: { firstName: 'Ada' } })).text).toMatch(/^Hi Ada, thanks for getting in touch with Acme/);
  });

  it('compiles a version once and compiles again when the current version changes', async () => {
    const repository = new FakeRepository();
    repository.save('digest', 'email', { subject: 'v1 {{contact.firstName}}', html: '<p>one</p>' });
    const renderer = rendererWith(repository);

    expect((await renderer.renderEmail('digest', { contact: { firstName: 'Ada' } })).subject).toBe('v1 Ada');
    expect((await renderer.renderEmail('digest', { contact: { firstName: 'Bob' } })).subject).toBe('v1 Bob');
    expect(repository.contentReads).toEqual(['id-digest@1']);

    repository.save('digest', 'email', { subject: 'v2 {{contact.firstName}}', html: '<p>two</p>' });
    expect((await renderer.renderEmail('digest', { contact: { firstName: 'Ada' } })).subject).toBe('v2 Ada');
    expect((await renderer.renderEmail('digest', { contact: { firstName: 'Bob' } })).subject).toBe('v2 Bob');
    expect(repository.contentReads).toEqual(['id-digest@1', 'id-digest@2']);

    // An older version stays compiled for previews of it.
    expect((await renderer.preview('email', 'digest', {}, 1)).subject).toBe('v1');
    expect(repository.contentReads).toHaveLength(2);
  });

  it('refuses a stored version that no longer passes the strict check, naming line and column', async () => {
    const repository = new FakeRepository();
    repository.save('legacy', 'email', { subject: 'Hi', html: '<p>\n{{contact.nickname}}</p>' });
    const rendering = rendererWith(repository).renderEmail('legacy', {});
    await expect(rendering).rejects.toBeInstanceOf(TemplateError);
    await expect(rendering).rejects.toMatchObject({ errors: [{ field: 'html', message: expect.stringMatching(/^line 2, column 3: "contact\.nickname" is not a variable/) }] });
  });
});

describe('preview', () => {
  it('warns about unguarded variables that are empty with the data, not about guarded ones', async () => {
    const repository = new FakeRepository();
    repository.save('check', 'email', {
      subject: 'Hi {{contact.firstName}}',
      html: '<p>{{default contact.lastName "-"}} {{#if owner}}{{owner.name}}{{/if}} {{contact.customFields.plan}}</p>',
    });
    const preview = await rendererWith(repository).preview('email', 'check', { contact: { firstName: null, lastName: null }, owner: null });
    expect(preview.warnings).toEqual([
      'subject: line 1, column 6: contact.firstName is empty with this data',
      'html: line 1, column 74: contact.customFields.plan is empty with this data',
    ]);
  });

  it('counts SMS segments', async () => {
    const repository = new FakeRepository();
    repository.save('long', 'sms', { text: `${'x'.repeat(170)} {{contact.firstName}}` });
    const preview = await rendererWith(repository).preview('sms', 'long', { contact: { firstName: 'Ada' } });
    expect(preview.warnings).toEqual(['the SMS has 174 characters and is sent as 2 segments']);
    expect(smsSegments('héllo 👋')).toEqual({ length: 8, count: 1, unicode: true });
    expect(smsSegments('€'.repeat(81))).toEqual({ length: 162, count: 2, unicode: false });
  });
});
