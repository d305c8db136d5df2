import { HttpProblem } from './problem';

/** Keyset cursors: (timestamp, id) of the last row, opaque to clients. */
export interface Cursor {
  at: Date;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`).toString('base64url');
}

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined) return undefined;
  const [at, id] = Buffer.from(raw, 'base64url').toString().split('|');
  const date = at ? new Date(at) : undefined;
  if (!date || Number.isNaN(date.getTime()) || !id || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new HttpProblem(400, 'invalid-parameters', 'Invalid query parameters.', 'The cursor is not one this API issued.', [
      { field: 'query.cursor', message: 'is not a valid cursor' },
    ]);
  }
  return { at: date, id };
}

/**
 * Fetch one row more than the limit to know whether another page exists. Lists in another
 * order than time (duplicates by score) bring their own cursor and its encoder.
 */
export function page<T, C = Cursor>(
  rows: T[],
  limit: number,
  cursorOf: (row: T) => C,
  encode: (cursor: C) => string = encodeCursor as (cursor: C) => string,
): { data: T[]; nextCursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last ? encode(cursorOf(last)) : null };
}
