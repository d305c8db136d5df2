import { Client } from 'pg';
import { migrateDatabase } from './runtime/migrate';
import { createPrisma } from './runtime/prisma';
import { runImportBatches } from './activities/import/batch';
import { pgImportDatabase } from './activities/import/database';
import pino from 'pino';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { resolveMapping } from './domain/import/fields';
import { readFileSync, readdirSync } from 'node:fs';
function pgCpu(pids: number[]): number { let total = 0; for (const pid of pids) { try { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); total += (Number(f[11]) + Number(f[12])) / 100; } catch {} } return total; }
(async () => {
  const admin = new Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' }); await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS tp_import_prof WITH (FORCE)'); await admin.query('CREATE DATABASE tp_import_prof'); await admin.end();
  const url = 'postgresql://postgres@127.0.0.1:5432/tp_import_prof';
  await migrateDatabase(url);
  const prisma = createPrisma(url);
  const n = Number(process.env.N ?? 20000);
  const lines = ['Email,First Name,Last Name,Phone,Company,Country'];
  for (let i = 0; i < n; i++) lines.push(`p${i}@example.com,First${i},LAST,(212) ${200 + (Math.floor(i / 10000) % 800)}-${String(i % 10000).padStart(4, '0')},Company ${i % 500} Inc.,`);
  const csv = Buffer.from(lines.join('\n') + '\n');
  const header = lines[0]!.split(',');
  const options = { header, mapping: resolveMapping(header, []).mapping, unmappedColumns: [], delimiter: ',', defaultCountry: 'US', source: 'import', policy: 'update_blanks', consent: null, previewSize: 10 };
  const job = await prisma.import.create({ data: { options, chunkSize: 1 << 20, byteSize: csv.length, status: 'queued' } });
  for (let seq = 0; seq * (1 << 20) < csv.length; seq++) await prisma.importChunk.create({ data: { importId: job.id, seq, data: csv.subarray(seq << 20, (seq + 1) << 20) } });
  const session = new Session(); session.connect(); if (process.env.PROFILE) { await session.post('Profiler.enable'); await session.post('Profiler.start'); }
  const mem = setInterval(() => { const m = process.memoryUsage(); console.log('rss', (m.rss/1048576).toFixed(0), 'heapUsed', (m.heapUsed/1048576).toFixed(0), 'heapTotal', (m.heapTotal/1048576).toFixed(0), 'external', (m.external/1048576).toFixed(0), 'ab', (m.arrayBuffers/1048576).toFixed(0)); }, 1000);
  const t = performance.now(); const cpu0 = process.cpuUsage(); const pids0 = (await prisma.$queryRawUnsafe<Array<{ pid: number }>>("SELECT pid FROM pg_stat_activity WHERE datname = 'tp_import_prof'")).map((r) => r.pid); const pg0 = pgCpu(pids0);
  for (;;) { const r = await runImportBatches({ database: pgImportDatabase(url, pino()), batchRows: 5000, maxRowBytes: 1 << 20, heartbeat: () => {} }, job.id, { maxBatches: 1000, maxMs: 30000 }); if (r.status !== "running") break; }
  const s = (performance.now() - t) / 1000;
  if (process.env.PROFILE) { const { profile } = await session.post('Profiler.stop'); writeFileSync('/tmp/prof/import.cpuprofile', JSON.stringify(profile)); }
  clearInterval(mem); const cpu = process.cpuUsage(cpu0); console.log('node cpu s', ((cpu.user + cpu.system) / 1e6).toFixed(2), 'postgres cpu s (all backends, other users too)', (pgCpu((await prisma.$queryRawUnsafe<Array<{ pid: number }>>("SELECT pid FROM pg_stat_activity WHERE datname = 'tp_import_prof'")).map((r) => r.pid)) - pg0).toFixed(2));
  console.log('rows', n, 'seconds', s.toFixed(2), 'rows/s', (n / s).toFixed(0), 'rss MiB', (process.resourceUsage().maxRSS / 1024).toFixed(0));
  console.log(await prisma.import.findUnique({ where: { id: job.id }, select: { rowsRead: true, created: true, failed: true } }));
  await prisma.$disconnect();
})();
