/**
 * The SMS keywords carriers and the CTIA guidelines require every sender to honour. A text is a
 * keyword only when the whole message is the keyword (trimmed, any case): "stop" opts out,
 * "please stop by the office" does not.
 */

export type SmsKeywordKind = 'opt_out' | 'opt_in' | 'help';

export interface SmsKeyword {
  kind: SmsKeywordKind;
  /** The keyword in capitals, as recorded in the consent ledger (method `keyword:STOP`). */
  keyword: string;
}

export const optOutKeywords = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'] as const;
export const optInKeywords = ['START', 'YES', 'UNSTOP'] as const;
export const helpKeywords = ['HELP', 'INFO'] as const;

const kinds = new Map<string, SmsKeywordKind>([
  ...optOutKeywords.map((keyword) => [keyword, 'opt_out'] as const),
  ...optInKeywords.map((keyword) => [keyword, 'opt_in'] as const),
  ...helpKeywords.map((keyword) => [keyword, 'help'] as const),
]);

/** The keyword the text is, or null for an ordinary message. */
export function classifySmsKeyword(body: string | null | undefined): SmsKeyword | null {
  if (typeof body !== 'string') return null;
  // toUpperCase, not toLocaleUpperCase: under a Turkish locale "quit" would become "QUİT".
  const keyword = body.trim().toUpperCase();
  const kind = kinds.get(keyword);
  return kind ? { kind, keyword } : null;
}
