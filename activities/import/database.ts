import { Pool, type PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { Prisma, PrismaClient } from '../../runtime/prisma';

/**
 * How an import's activities reach PostgreSQL: `pg` directly. The batch statements carry a
 * whole batch as one JSON parameter of a megabyte or more, and the stored file comes back in
 * megabyte chunks; Prisma's query engine spent about a third of the worker's CPU per row passing
 * such values through, `pg` hands them over as they are. Statements are built with the `sql`
 * tag, so values are always parameters.
 */

/** A statement and its values; a Sql interpolated into another is inlined, anything else is a parameter. */
export class Sql {
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  return new Sql(strings, values);
}

export const emptySql = new Sql([''], []);

function compile(statement: Sql): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  let text = '';
  const append = (part: Sql) => {
    part.strings.forEach((chunk, index) => {
      text += chunk;
      if (index >= part.values.length) return;
      const value = part.values[index];
      if (value instanceof Sql) append(value);
      else {
        values.push(value);
        text += `$${values.length}`;
      }
    });
  };
  append(statement);
  return { text, values };
}

export interface SqlClient {
  rows<T>(statement: Sql): Promise<T[]>;
  /** Runs a statement; resolves to the number of rows it affected. */
  run(statement: Sql): Promise<number>;
}

export interface ImportDatabase {
  /** Runs `work` in one transaction, committed when it resolves and rolled back when it throws. */
  transaction<T>(work: (db: SqlClient) => Promise<T>): Promise<T>;
  /** One chunk of a stored file, outside any transaction (chunks never change once stored). */
  readChunk(importId: string, seq: number): Promise<Buffer | null>;
}

function pgSqlClient(client: PoolClient): SqlClient {
  return {
    async rows<T>(statement: Sql) {
      const { text, values } = compile(statement);
      return (await client.query(text, values)).rows as T[];
    },
    async run(statement: Sql) {
      const { text, values } = compile(statement);
      return (await client.query(text, values)).rowCount ?? 0;
    },
  };
}

/** A small pool of its own, separate from Prisma's; idle connections close and never keep the process up. */
export function pgImportDatabase(databaseUrl: string, logger: Logger): ImportDatabase {
  let created: Pool | undefined;
  const pool = () => {
    if (!created) {
      created = new Pool({ connectionString: databaseUrl, max: 4, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
      // An idle connection the server closed (a restart, a dropped test database) is simply replaced.
      created.on('error', (error) => logger.warn({ err: error }, 'import database connection lost'));
    }
    return created;
  };
  return {
    async readChunk(importId, seq) {
      const { rows } = await pool().query<{ data: Buffer }>('SELECT data FROM import_chunks WHERE import_id = $1 AND seq = $2', [importId, seq]);
      return rows[0]?.data ?? null;
    },
    async transaction(work) {
      const client = await pool().connect();
      let broken: unknown;
      try {
        await client.query('BEGIN');
        const result = await work(pgSqlClient(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        broken = await client.query('ROLLBACK').then(() => undefined, (rollbackError: unknown) => rollbackError);
        throw error;
      } finally {
        // A connection whose rollback failed is not given back to the pool.
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
  };
}

/** The same statements through Prisma, for activity sets created without a database URL (tests of other workflows). */
export function prismaImportDatabase(prisma: PrismaClient): ImportDatabase {
  const client = (tx: Prisma.TransactionClient): SqlClient => ({
    rows<T>(statement: Sql) {
      const { text, values } = compile(statement);
      return tx.$queryRawUnsafe<T[]>(text, ...values);
    },
    run(statement: Sql) {
      const { text, values } = compile(statement);
      return tx.$executeRawUnsafe(text, ...values);
    },
  });
  return {
    transaction: (work) => prisma.$transaction((tx) => work(client(tx)), { timeout: 10 * 60_000, maxWait: 60_000 }),
    async readChunk(importId, seq) {
      const chunk = await prisma.importChunk.findUnique({ where: { importId_seq: { importId, seq } }, select: { data: true } });
      return chunk ? Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength) : null;
    },
  };
}
