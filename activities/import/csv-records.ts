import { CsvError, parse } from 'csv-parse';

/**
 * Records of a stored CSV from a byte position on, each with the line it starts on and the
 * position after it, so that a batch can stop after any record and the next one (in this
 * process or another, after a crash) starts exactly there.
 */

export interface CsvPosition {
  /** Byte offset in the file. */
  offset: number;
  /** Line of the file at that offset (the header is line 1). */
  line: number;
}

export type CsvItem =
  | { kind: 'record'; line: number; cells: string[]; next: CsvPosition }
  /** The file cannot be read past this point; nothing after it is returned. */
  | { kind: 'unreadable'; line: number; reason: string };

export interface CsvReadOptions {
  delimiter: string;
  /** Longer rows stop the reading: in practice a quote that is never closed, which would otherwise swallow the rest of the file into memory. */
  maxRowBytes: number;
}

const lineFeed = 0x0a;

/**
 * Line numbers from the bytes themselves (csv-parse counts the CR and LF of a CRLF inside a
 * quoted field as two lines). Keeps the chunks fed to the parser until their lines are counted.
 */
class LineTracker {
  private readonly pieces: Buffer[] = [];
  /** Absolute offset of pieces[0]. */
  private pieceStart: number;
  private counted: number;
  private line: number;
  private lastByte = -1;

  constructor(start: CsvPosition) {
    this.pieceStart = start.offset;
    this.counted = start.offset;
    this.line = start.line;
  }

  add(chunk: Buffer): void {
    this.pieces.push(chunk);
  }

  /** The line at `offset` (1 + line feeds before it) and whether the byte before it is a line feed. */
  advanceTo(offset: number): { line: number; afterLineFeed: boolean } {
    while (this.counted < offset && this.pieces.length > 0) {
      const piece = this.pieces[0]!;
      const from = this.counted - this.pieceStart;
      const to = Math.min(piece.length, offset - this.pieceStart);
      for (let at = piece.indexOf(lineFeed, from); at !== -1 && at < to; at = piece.indexOf(lineFeed, at + 1)) this.line += 1;
      this.lastByte = piece[to - 1]!;
      this.counted = this.pieceStart + to;
      if (to === piece.length) {
        this.pieces.shift();
        this.pieceStart += piece.length;
      }
    }
    return { line: this.line, afterLineFeed: this.lastByte === lineFeed };
  }
}

type ParsedRecord = { cells: string[]; end: number };

/** The records parsed from each chunk of the file, in order; an unreadable item ends the last list. */
export async function* readCsvRecords(chunks: AsyncIterable<Buffer>, start: CsvPosition, options: CsvReadOptions): AsyncGenerator<CsvItem[]> {
  const tracker = new LineTracker(start);
  const parser = parse({
    delimiter: options.delimiter,
    bom: start.offset === 0,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
  });
  // Records flow into a queue of our own: a parser that fails at the end of the input (an
  // unclosed quote) would otherwise drop the records it had parsed but not handed out yet.
  let parsed: ParsedRecord[] = [];
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  let writing = false;
  parser.on('data', (cells: string[]) => {
    // Where a record ends is the parser's byte count at the moment it hands the record out;
    // csv-parse's per-record `info` would say the same at three times the parsing cost. That
    // holds because a flowing parser emits each record inside the write() that parsed it.
    if (!writing) failure ??= new Error('csv-parse emitted a record outside write(): its position is unknown');
    else parsed.push({ cells, end: parser.info.bytes });
  });
  parser.on('error', (error) => {
    failure ??= error;
    wake?.();
  });
  parser.on('end', () => {
    ended = true;
    wake?.();
  });
  // The 'data' listener makes the parser flow from the next tick on.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const handOver = (write: () => void) => {
    writing = true;
    try {
      write();
    } finally {
      writing = false;
    }
  };

  const source = chunks[Symbol.asyncIterator]();
  let sourceDone = false;
  /** Parser-relative offset after the last record parsed, and the line there. */
  let lastEnd = 0;
  let lastLine = start.line;
  /** Bytes handed to the parser, which parses each chunk before it gets the next. */
  let fed = 0;
  try {
    for (;;) {
      const items: CsvItem[] = [];
      for (const { cells, end } of parsed) {
        const { line: lineAtEnd, afterLineFeed } = tracker.advanceTo(start.offset + end);
        const inside = cells.reduce((count, cell) => count + countLineFeeds(cell), 0);
        lastEnd = end;
        lastLine = lineAtEnd;
        items.push({ kind: 'record', line: lineAtEnd - (afterLineFeed ? 1 : 0) - inside, cells, next: { offset: start.offset + end, line: lineAtEnd } });
      }
      parsed = [];
      // Everything up to the last record stands; the rest cannot be told apart from the broken field.
      if (failure !== undefined) items.push({ kind: 'unreadable', line: lastLine, reason: unreadableReason(failure) });
      else if (!ended && fed - lastEnd > options.maxRowBytes) {
        items.push({ kind: 'unreadable', line: lastLine, reason: `the row starting here is longer than ${options.maxRowBytes} bytes, most likely because a quote is never closed; the file could not be read from here on` });
      }
      if (items.length > 0) yield items;
      if (ended || items.at(-1)?.kind === 'unreadable') return;
      if (sourceDone) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const next = await source.next();
      if (next.done) {
        sourceDone = true;
        handOver(() => parser.end());
      } else {
        tracker.add(next.value);
        fed += next.value.length;
        handOver(() => parser.write(next.value));
      }
    }
  } finally {
    parser.destroy();
    await source.return?.();
  }
}

function unreadableReason(error: unknown): string {
  if (error instanceof CsvError && error.code === 'CSV_QUOTE_NOT_CLOSED') {
    return 'a quote opened in the row starting here is never closed; the file could not be read from here on';
  }
  if (error instanceof CsvError) return `the file could not be read from here on (${error.code}: ${error.message})`;
  throw error;
}

function countLineFeeds(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count += 1;
  return count;
}
