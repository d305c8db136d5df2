import { describe, expect, it } from '@jest/globals';
import { reportHeader, reportLine, reportValue, spreadsheetSafe } from '../../domain/import/report';

describe('import report format', () => {
  it('starts with a byte order mark and the column names, CRLF-terminated', () => {
    expect(reportHeader).toBe('\uFEFFline,column,reason,value\r\n');
  });

  it('writes one problem per line: line number, column, reason, value', () => {
    expect(reportLine({ line: 12, column: 'E-mail', reason: 'is not a valid email address', value: 'jane@' })).toBe('12,E-mail,is not a valid email address,jane@\r\n');
  });

  it('quotes fields with commas, quotes or line breaks and doubles inner quotes (RFC 4180)', () => {
    expect(reportLine({ line: 3, column: 'Name, full', reason: 'is "odd"', value: 'two\nlines' })).toBe('3,"Name, full","is ""odd""","two\nlines"\r\n');
  });

  it('leaves the column and value empty for a problem of the whole row', () => {
    expect(reportLine({ line: 9, column: null, reason: 'has no email address or phone number; a contact needs one', value: null })).toBe(
      '9,,has no email address or phone number; a contact needs one,\r\n',
    );
  });

  it('neutralises values a spreadsheet would run as formulas, but not phone numbers or negative numbers', () => {
    expect(spreadsheetSafe('=HYPERLINK("http://evil.example","click")')).toBe('\'=HYPERLINK("http://evil.example","click")');
    expect(spreadsheetSafe('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(spreadsheetSafe('+1 (415) 555-0132')).toBe('+1 (415) 555-0132');
    expect(spreadsheetSafe('-42')).toBe('-42');
    expect(spreadsheetSafe('+cmd|calc')).toBe("'+cmd|calc");
    expect(reportLine({ line: 4, column: 'Phone', reason: 'is not a phone number', value: '=1+1' })).toBe("4,Phone,is not a phone number,'=1+1\r\n");
  });

  it('cuts stored values at 1,000 characters and says so with an ellipsis', () => {
    expect(reportValue('x'.repeat(1000))).toHaveLength(1000);
    const cut = reportValue('x'.repeat(5000))!;
    expect(cut).toHaveLength(1000);
    expect(cut.endsWith('…')).toBe(true);
  });
});
