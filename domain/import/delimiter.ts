/** Separators a CSV file may use; Excel writes `;` where the decimal separator is a comma. */
export const csvDelimiters = [',', ';', '\t', '|'] as const;
export type CsvDelimiter = (typeof csvDelimiters)[number];

/**
 * The separator of a file, from its header line: the candidate that occurs most often outside
 * quotes. Header cells rarely contain separators, so the count is a reliable signal; a tie or
 * a one-column file reads as the standard comma.
 */
export function detectDelimiter(headerLine: string): CsvDelimiter {
  const counts = new Map<string, number>(csvDelimiters.map((delimiter) => [delimiter, 0]));
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && counts.has(char)) counts.set(char, counts.get(char)! + 1);
  }
  let best: CsvDelimiter = ',';
  for (const delimiter of csvDelimiters) if (counts.get(delimiter)! > counts.get(best)!) best = delimiter;
  return best;
}
