import { describe, expect, it } from '@jest/globals';
import { classifySmsKeyword } from '../../domain/sms-keywords';

describe('SMS keywords', () => {
  it.each(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'])('%s opts out', (keyword) => {
    expect(classifySmsKeyword(keyword)).toEqual({ kind: 'opt_out', keyword });
  });

  it.each(['START', 'YES', 'UNSTOP'])('%s opts back in', (keyword) => {
    expect(classifySmsKeyword(keyword)).toEqual({ kind: 'opt_in', keyword });
  });

  it.each(['HELP', 'INFO'])('%s asks for help', (keyword) => {
    expect(classifySmsKeyword(keyword)).toEqual({ kind: 'help', keyword });
  });

  it('ignores case and surrounding whitespace, and reports the keyword in capitals', () => {
    expect(classifySmsKeyword('  stop \n')).toEqual({ kind: 'opt_out', keyword: 'STOP' });
    expect(classifySmsKeyword('Start')).toEqual({ kind: 'opt_in', keyword: 'START' });
    expect(classifySmsKeyword('quit')).toEqual({ kind: 'opt_out', keyword: 'QUIT' });
  });

  it('only matches the whole message, so ordinary texts that contain a keyword are not keywords', () => {
    for (const body of ['please stop by the office', 'STOP!', 'yes please', 'help me with pricing', 'stopp', '', '   ']) {
      expect(classifySmsKeyword(body)).toBeNull();
    }
    expect(classifySmsKeyword(undefined)).toBeNull();
  });
});
