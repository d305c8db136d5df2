/**
 * A readable plain-text part for clients that do not show HTML, and for spam filters that
 * score mails without one. It is derived from the email body (not the layout), so it holds
 * what the marketer wrote; the text layout adds the footer.
 */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
    // Whitespace in HTML source is not significant; line breaks come from the tags below.
    .replace(/\s+/g, ' ')
    .replace(/<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*>([\s\S]*?)<\/a\s*>/gi, (_match, double: string | undefined, single: string | undefined, inner: string) =>
      linkText(decodeEntities(double ?? single ?? ''), inner),
    )
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<hr\b[^>]*>/gi, '\n\n---\n\n')
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(/<\/li\s*>/gi, '')
    .replace(/<\/(ul|ol)\s*>/gi, '\n')
    .replace(/<\/(td|th)\s*>/gi, ' ')
    .replace(/<\/?(p|div|h[1-6]|tr|table|blockquote|section|article|header|footer)\b[^>]*>/gi, '\n\n')
    .replace(/<[^>]+>/g, '');
  return decodeEntities(text)
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** "Call us (https://x)"; a bare URL or a mailto whose text is the address is written once. */
function linkText(href: string, inner: string): string {
  const label = decodeEntities(inner.replace(/<[^>]+>/g, '')).trim();
  const target = href.trim();
  if (!target || target.startsWith('#') || /^javascript:/i.test(target)) return label;
  const bare = target.replace(/^mailto:/i, '').replace(/^tel:/i, '');
  // Decoded for the comparison; escaped again so the later tag strip and decode keep them literal.
  if (!label || label === target || label === bare) return escapeText(bare);
  return `${escapeText(label)} (${escapeText(target)})`;
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const namedEntities: Record<string, string> = {
  nbsp: '\u00a0', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", middot: '·', copy: '©', reg: '®', trade: '™',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', bull: '•', euro: '€', pound: '£',
  yen: '¥', cent: '¢', sect: '§', deg: '°', times: '×', laquo: '«', raquo: '»', zwnj: '', zwj: '',
};

/** One pass, so "&amp;lt;" becomes "&lt;" and not "<". */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return namedEntities[name.toLowerCase()] ?? entity;
  });
}
