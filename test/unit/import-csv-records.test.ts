import { describe, expect, it } from '@jest/globals';
import { readCsvRecords, type CsvItem, type CsvPosition } from '../../activities/import/csv-records';

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function readAll(bytes: Buffer, { chunk = 1024, from = { offset: 0, line: 1 }, maxRowBytes = 1024 }: { chunk?: number; from?: CsvPosition; maxRowBytes?: number } = {}): Promise<CsvItem[]> {
  const items: CsvItem[] = [];
  for await (const parsed of readCsvRecords(pieces(bytes.subarray(from.offset), chunk), from, { delimiter: ',', maxRowBytes })) items.push(...parsed);
  return items;
}

const file = Buffer.from('\uFEFFemail,name\r\na@x.example,"Multi\r\nline"\r\n\r\nb@x.example,Bé\r\n,\r\nc@x.example,"x\ny\nz"\r\nd@x.example,last');

describe('readCsvRecords', () => {
  it.each([1, 3, 7, 4096])('gives each record the line it starts on, with %i-byte chunks (CRLF, quoted line breaks, blank and empty rows)', async (chunk) => {
    const items = await readAll(file, { chunk });
    expect(items.map((item) => (item.kind === 'record' ? [item.line, item.cells[0]] : item))).toEqual([
      [1, 'email'], [2, 'a@x.example'], [5, 'b@x.example'], [7, 'c@x.example'], [10, 'd@x.example'],
    ]);
  });

  it('resumes from the position after any record exactly where a single pass would have gone on', async () => {
    const whole = await readAll(file);
    for (const [index, item] of whole.entries()) {
      if (item.kind !== 'record') continue;
      const rest = await readAll(file, { chunk: 5, from: item.next });
      expect(rest).toEqual(whole.slice(index + 1));
    }
  });

  it('returns the records before a quote that is never closed, then says where the file stops being readable', async () => {
    const items = await readAll(Buffer.from('a,b\n1,2\n3,"open\n4,5\n'), { chunk: 4 });
    expect(items).toEqual([
      { kind: 'record', line: 1, cells: ['a', 'b'], next: { offset: 4, line: 2 } },
      { kind: 'record', line: 2, cells: ['1', '2'], next: { offset: 8, line: 3 } },
      { kind: 'unreadable', line: 3, reason: 'a quote opened in the row starting here is never closed; the file could not be read from here on' },
    ]);
  });

  it('stops at a row longer than the limit instead of reading the rest of the file into memory', async () => {
    const items = await readAll(Buffer.from(`a,b\n1,2\n3,"open\n${'4,5\n'.repeat(100)}`), { chunk: 8, maxRowBytes: 50 });
    expect(items.at(-1)).toEqual({ kind: 'unreadable', line: 3, reason: 'the row starting here is longer than 50 bytes, most likely because a quote is never closed; the file could not be read from here on' });
  });

  it('takes a quote inside an unquoted field literally, as spreadsheets write it', async () => {
    const items = await readAll(Buffer.from('a,b\n1,5" screen\n'));
    expect(items[1]).toMatchObject({ kind: 'record', cells: ['1', '5" screen'] });
  });
});
