import { Client } from 'pg';
import { randomUUID } from 'node:crypto';
import { createPrisma } from './runtime/prisma';
(async () => {
  const url = 'postgresql://postgres@127.0.0.1:5432/tp_import_prof';
  const prisma = createPrisma(url);
  const pg = new Client({ connectionString: url }); await pg.connect();
  const rows = () => JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ id: randomUUID(), first_name: 'A' + i, last_name: 'B', lifecycle_stage: 'lead', company_id: null, source: 'x', time_zone: null, country: null, tags: [], custom_fields: {} })));
  const sql = `INSERT INTO contacts (id, first_name, last_name, lifecycle_stage, company_id, source, time_zone, country, tags, custom_fields, created_at, updated_at)
      SELECT x.id, x.first_name, x.last_name, x.lifecycle_stage::"LifecycleStage", x.company_id, x.source, x.time_zone, x.country,
             ARRAY(SELECT jsonb_array_elements_text(x.tags)), x.custom_fields, now(), now()
      FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, first_name text, last_name text, lifecycle_stage text, company_id uuid, source text, time_zone text, country text, tags jsonb, custom_fields jsonb)`;
  for (let k = 0; k < 3; k++) {
    let r = rows(); let t = performance.now(); await prisma.$executeRawUnsafe(sql, r); console.log('prisma', (performance.now() - t).toFixed(0));
    r = rows(); t = performance.now(); await pg.query(sql, [r]); console.log('pg', (performance.now() - t).toFixed(0));
    r = rows(); t = performance.now(); await pg.query(sql.replace('ARRAY(SELECT jsonb_array_elements_text(x.tags))', "'{}'::text[]"), [r]); console.log('pg no tags subselect', (performance.now() - t).toFixed(0));
  }
  await pg.end(); await prisma.$disconnect();
})();
