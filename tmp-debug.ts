import { Client } from 'pg';
import { migrateDatabase } from './runtime/migrate';
import { createPrisma } from './runtime/prisma';
import { runImportBatch } from './activities/import/batch';
import { resolveMapping } from './domain/import/fields';
(async () => {
  const admin = new Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' }); await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS tp_import_debug WITH (FORCE)'); await admin.query('CREATE DATABASE tp_import_debug'); await admin.end();
  const url = 'postgresql://postgres@127.0.0.1:5432/tp_import_debug';
  await migrateDatabase(url);
  const prisma = createPrisma(url);
  const csv = Buffer.from('email,first name\nA@x.com,ann\nb@x.com,bob\n');
  const header = ['email', 'first name'];
  const options = { header, mapping: resolveMapping(header, []).mapping, unmappedColumns: [], delimiter: ',', defaultCountry: null, source: 'import', policy: 'update_blanks', consent: null, previewSize: 10 };
  const job = await prisma.import.create({ data: { options, chunkSize: 1 << 20, byteSize: csv.length, status: 'queued' } });
  await prisma.importChunk.create({ data: { importId: job.id, seq: 0, data: csv } });
  try {
    console.log(await runImportBatch({ prisma, batchRows: 1, maxRowBytes: 1 << 20, heartbeat: () => {} }, job.id));
    console.log(await runImportBatch({ prisma, batchRows: 5, maxRowBytes: 1 << 20, heartbeat: () => {} }, job.id));
  } catch (e) { console.error(e); }
  console.log(await prisma.import.findUnique({ where: { id: job.id } }));
  await prisma.$disconnect();
})();
