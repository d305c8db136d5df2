import { resolveMapping } from './domain/import/fields';
import { normalizeImportRow, type ImportedContact } from './domain/import/row';
import { planBatch } from './domain/import/plan';
import { randomUUID } from 'node:crypto';
const header = ['Email', 'First Name', 'Last Name', 'Phone', 'Company', 'Country'];
const { mapping } = resolveMapping(header, []);
const rows = Array.from({ length: 5000 }, (_, i) => [`p${i}@example.com`, `First${i}`, 'LAST', `(212) ${200 + (i % 800)}-${String(i % 10000).padStart(4, '0')}`, `Company ${i % 500} Inc.`, '']);
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  const valid: ImportedContact[] = [];
  for (const [i, cells] of rows.entries()) { const r = normalizeImportRow(cells, i + 2, mapping, header.length, 'US'); if (r.ok) valid.push(r.contact); }
  const tNorm = performance.now() - t; t = performance.now();
  const plan = planBatch(valid, { owners: new Map(), contacts: new Map(), companies: new Map() }, { policy: 'update_blanks', source: 'import', consent: null, newId: randomUUID });
  const tPlan = performance.now() - t; t = performance.now();
  const json = JSON.stringify(plan.contacts.map((c) => c.after)); const tJson = performance.now() - t;
  console.log('normalise', tNorm.toFixed(0), 'plan', tPlan.toFixed(0), 'json', tJson.toFixed(0), json.length);
}
