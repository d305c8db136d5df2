import { describe, expect, it } from '@jest/globals';
import { templatesRoot } from '../../activities/templates';
import { TemplateEngine } from '../../activities/templates/engine';

const engine = new TemplateEngine(templatesRoot);

/** The problems a save would report for an HTML body. */
function htmlErrors(html: string): string[] {
  return engine.check({ html }).map((error) => `${error.field} ${error.message}`);
}

describe('strict checking reports undeclared names with line and column', () => {
  it('rejects an undeclared top-level name at its position', () => {
    expect(htmlErrors('<p>Hello</p>\n<p>  {{nickname}}</p>')).toEqual([
      'html line 2, column 8: "nickname" is not a variable; the variables are contact, owner, deal, sender, links, message',
    ]);
  });

  it('rejects an unknown property of a declared group and lists the known ones', () => {
    const [error] = htmlErrors('Hi {{contact.nickname}}');
    expect(error).toMatch(/^html line 1, column 6: "contact\.nickname" is not a variable: contact has no "nickname"; it has firstName, lastName, fullName/);
  });

  it('rejects a property path below a single value', () => {
    expect(htmlErrors('{{contact.email.domain}}')[0]).toContain('contact.email is a single value and has no "domain"');
  });

  it('rejects an unknown variable passed to a helper, even inside a guard', () => {
    expect(htmlErrors('{{#if contact.vip}}x{{/if}} {{default owner.phone "-"}}')).toEqual([
      expect.stringContaining('line 1, column 7: "contact.vip" is not a variable'),
      expect.stringContaining('line 1, column 39: "owner.phone" is not a variable'),
    ]);
  });

  it('reports every problem of every part at once', () => {
    const errors = engine.check({ subject: 'Hi {{contact.first}}', html: '{{foo}}', text: '{{bar}}' });
    expect(errors.map((error) => error.field)).toEqual(['subject', 'html', 'text']);
  });

  it('allows every declared variable and any custom field', () => {
    const source = [
      '{{contact.firstName}} {{contact.lastName}} {{contact.fullName}} {{contact.email}} {{contact.phone}}',
      '{{contact.timeZone}} {{contact.locale}} {{contact.customFields.plan}} {{contact.customFields.anythingAtAll}}',
      '{{owner.name}} {{owner.email}} {{sender.company}} {{sender.postalAddress}}',
      '{{links.unsubscribe}} {{links.preferences}} {{message.id}} {{unsubscribeUrl}} {{preferencesUrl}}',
    ].join('\n');
    expect(htmlErrors(source)).toEqual([]);
  });

  it('rejects unknown helpers and wrong argument counts', () => {
    expect(htmlErrors('{{shout contact.firstName}}')[0]).toContain('line 1, column 3: "shout" is not a helper');
    expect(htmlErrors('{{formatCurrency 5}}')[0]).toContain('formatCurrency takes 2 arguments, got 1');
    expect(htmlErrors('{{#default contact.firstName "x"}}{{/default}}')[0]).toContain('default is not a block helper');
    expect(htmlErrors('{{if contact.firstName}}')[0]).toContain('if needs a block');
  });

  it('does not mistake object built-ins for helpers or variables', () => {
    expect(htmlErrors('{{constructor}} {{toString contact}}')).toEqual([
      'html line 1, column 3: "constructor" is not a variable; the variables are contact, owner, deal, sender, links, message',
      expect.stringContaining('line 1, column 19: "toString" is not a helper'),
    ]);
  });

  it('treats a bare helper name as a helper call, as Handlebars does, so {{firstName}} inside {{#with contact}} is an error', () => {
    expect(htmlErrors('{{#with contact}}{{firstName}}{{/with}}')[0]).toContain('firstName takes 1 argument, got 0');
    expect(htmlErrors('{{#with contact}}{{this.firstName}}{{/with}}')).toEqual([]);
  });

  it('checks literal helper arguments at save time', () => {
    expect(htmlErrors('{{formatCurrency 5 "EURO"}}')[0]).toContain('line 1, column 20: formatCurrency: "EURO" is not an ISO 4217 currency code');
    expect(htmlErrors('{{formatDate "2025-03-01" "DATE_MEDIUM"}}')[0]).toContain('"DATE_MEDIUM" is not a date format');
    expect(htmlErrors('{{formatDate "soon"}}')[0]).toContain('"soon" is not a date');
    expect(htmlErrors('{{formatDate "2025-03-01" "d MMMM yyyy"}} {{formatCurrency "12.50" "EUR"}}')).toEqual([]);
  });
});

describe('syntax errors carry line and column', () => {
  it('locates a mustache that is not closed', () => {
    const errors = htmlErrors('<p>Hi</p>\n<p>{{contact.firstName}</p>');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^html line 2, column 23: syntax error: found an unexpected character, expected }} or /);
  });

  it('locates a block that is never closed', () => {
    expect(htmlErrors('{{#if owner}}\n<p>x</p>')[0]).toMatch(/^html line 2, column \d+: a block is not closed/);
  });

  it('locates a block closed by the wrong name', () => {
    expect(htmlErrors('\n{{#if owner}}x{{/unless}}')).toEqual(['html line 2, column 4: {{#if}} is closed by {{/unless}}']);
  });
});

describe('guards, scopes and block helpers', () => {
  it('accepts {{#if}}, {{#unless}} and default on declared but possibly empty values', () => {
    expect(htmlErrors('{{#if owner}}{{owner.name}}{{else}}us{{/if}}{{#unless contact.firstName}}friend{{/unless}}{{default contact.firstName "there"}}')).toEqual([]);
  });

  it('resolves names inside {{#with}} against the new context and ../ against the outer one', () => {
    expect(htmlErrors('{{#with owner}}{{name}} for {{../contact.firstName}} {{@root.sender.company}}{{/with}}')).toEqual([]);
    expect(htmlErrors('{{#with owner}}{{nme}}{{/with}}')[0]).toContain('"nme" is not a variable: owner has no "nme"; it has name, email');
    expect(htmlErrors('{{../contact.firstName}}')[0]).toContain('goes above the top of the template');
  });

  it('loops over custom fields with @key, @index and block parameters, and refuses to loop over a value', () => {
    expect(htmlErrors('{{#each contact.customFields}}{{@key}}={{this}} {{@index}}{{/each}}')).toEqual([]);
    expect(htmlErrors('{{#each contact.customFields as |value name|}}{{name}}: {{value}}{{/each}}')).toEqual([]);
    expect(htmlErrors('{{#each contact.email}}x{{/each}}')[0]).toContain('"contact.email" is a single value');
    expect(htmlErrors('{{@index}}')[0]).toContain('@index is only available inside {{#each}}');
    expect(htmlErrors('{{#each contact.customFields}}{{this.x}}{{/each}}')[0]).toContain('is a single value and has no "x"');
  });

  it('refuses unescaped output in HTML but not in plain-text parts', () => {
    expect(htmlErrors('{{{contact.firstName}}}')[0]).toContain('line 1, column 1: unescaped output');
    expect(engine.check({ text: '{{{contact.firstName}}}', subject: '{{{contact.firstName}}}' })).toEqual([]);
  });

  it('checks partials: the name must exist and its variables are checked in the including context', () => {
    expect(htmlErrors('{{> footer}}')).toEqual([]);
    expect(htmlErrors('x\n{{> header}}')).toEqual(['html line 2, column 1: there is no partial "header"; the partials are footer']);
    expect(htmlErrors('{{#with owner}}{{> footer}}{{/with}}')[0]).toMatch(/^html line 1, column 16: in partial footer at line \d+, column \d+: "links\.unsubscribe" is not a variable/);
  });
});
