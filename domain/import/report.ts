/**
 * The import report, a CSV file (RFC 4180, CRLF line ends, UTF-8 with a byte order mark so
 * that Excel reads accents right): one line per problem of a rejected row, and per value of an
 * imported row that was not taken.
 */

export interface ReportEntry {
  line: number;
  column: string | null;
  reason: string;
  value: string | null;
}

export const reportHeader = '\uFEFFline,column,reason,value\r\n';

/** Values are kept up to this length in the report. */
export const reportValueLimit = 1000;

export function reportLine(entry: ReportEntry): string {
  return `${entry.line},${csvField(entry.column ?? '')},${csvField(entry.reason)},${csvField(spreadsheetSafe(entry.value ?? ''))}\r\n`;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * A cell starting with = + - @ (or a tab or carriage return) is a formula to a spreadsheet,
 * and these values come from an uploaded file (CSV injection, OWASP): such a value gets a
 * leading apostrophe, which spreadsheets show as text. Numbers and phone numbers stay as they are.
 */
export function spreadsheetSafe(value: string): string {
  if (!/^[=+\-@\t\r]/.test(value) || /^[+-]?[\d\s().\-/]*$/.test(value)) return value;
  return `'${value}`;
}

/** A value as stored for the report: cut at the limit, with an ellipsis saying so. */
export function reportValue(value: string | null): string | null {
  if (value === null || value.length <= reportValueLimit) return value;
  return `${value.slice(0, reportValueLimit - 1)}…`;
}
