/**
 * Recognises automatic replies (out-of-office notes, autoresponders, bulk mail) among inbound
 * emails. They are logged on the contact but must not count as the person replying: a
 * vacation notice would otherwise end a sequence as if the lead had answered.
 *
 * Headers first (RFC 3834 Auto-Submitted and the common vendor headers), then the subject
 * lines mail programs use for out-of-office notes in the languages our customers write in.
 */

export interface InboundEmailFacts {
  /** Header names in any case; a repeated header may be given as a list. */
  headers: Record<string, string | string[] | undefined>;
  subject: string | null | undefined;
  /** The From address, used to spot mailer daemons. */
  from?: string | null;
}

export interface AutoReplyVerdict {
  autoReply: boolean;
  /** What gave it away, e.g. `header:auto-submitted=auto-replied` or `subject:out of office`. */
  reason: string | null;
}

const precedenceValues = new Set(['auto_reply', 'bulk', 'junk']);

/**
 * Subject lines of automatic replies, matched at the start of the subject (after an optional
 * "[" or "Re:"), so that a person's "Re: are you out of office next week?" is not caught.
 */
const subjectPatterns: Array<{ name: string; pattern: RegExp }> = [
  { name: 'out of office', pattern: /^out[ -]of[ -](the[ -])?office\b/ },
  { name: 'automatic reply', pattern: /^automatic reply\b/ },
  { name: 'auto reply', pattern: /^auto[ -]?reply\b/ },
  { name: 'autoresponse', pattern: /^auto[ -]?respon(se|der)\b/ },
  { name: 'abwesenheitsnotiz', pattern: /^abwesenheitsnotiz\b/ },
  { name: 'automatische antwort', pattern: /^automatische antwort\b/ },
  { name: 'réponse automatique', pattern: /^réponse automatique(\s|:|$)/ },
  { name: 'absence', pattern: /^absence du bureau(\s|:|$)/ },
  { name: 'respuesta automática', pattern: /^respuesta automática(\s|:|$)/ },
  { name: 'fuera de la oficina', pattern: /^fuera de la oficina\b/ },
  { name: 'risposta automatica', pattern: /^risposta automatica\b/ },
  { name: 'automatisch antwoord', pattern: /^automatisch antwoord\b/ },
  { name: 'afwezig', pattern: /^afwezig\b/ },
];

function headerValues(headers: InboundEmailFacts['headers'], name: string): string[] {
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    values.push(...(Array.isArray(value) ? value : [value]));
  }
  return values.map((value) => value.trim());
}

function normalizedSubject(subject: string): string {
  let text = subject.normalize('NFC').trim().toLowerCase();
  // "[Auto-Reply] ..." and "Re: Automatic reply: ..." still start with the pattern once unwrapped.
  for (let i = 0; i < 3; i += 1) {
    const unwrapped = text.replace(/^\[\s*/, '').replace(/^(re|aw|sv|antw|réf|rif)\s*:\s*/, '');
    if (unwrapped === text) break;
    text = unwrapped;
  }
  return text;
}

export function detectAutoReply(email: InboundEmailFacts): AutoReplyVerdict {
  for (const value of headerValues(email.headers, 'auto-submitted')) {
    // RFC 3834: "no" (or absent) means a person sent it; any other value is automatic.
    const token = value.split(';')[0]!.trim().toLowerCase();
    if (token !== '' && token !== 'no') return { autoReply: true, reason: `header:auto-submitted=${token}` };
  }
  for (const name of ['x-autoreply', 'x-autorespond', 'x-autoresponder']) {
    const value = headerValues(email.headers, name)[0];
    if (value !== undefined && value.toLowerCase() !== 'no') return { autoReply: true, reason: `header:${name}` };
  }
  for (const value of headerValues(email.headers, 'precedence')) {
    const token = value.toLowerCase();
    if (precedenceValues.has(token)) return { autoReply: true, reason: `header:precedence=${token}` };
  }
  const from = email.from?.trim().toLowerCase() ?? '';
  if (/^(mailer-daemon|postmaster)@/.test(from)) return { autoReply: true, reason: 'from:mailer-daemon' };

  if (email.subject) {
    const subject = normalizedSubject(email.subject);
    const hit = subjectPatterns.find(({ pattern }) => pattern.test(subject));
    if (hit) return { autoReply: true, reason: `subject:${hit.name}` };
  }
  return { autoReply: false, reason: null };
}
