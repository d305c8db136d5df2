-- The companies API lists companies newest first (keyset on created_at, id), counts each
-- company's contacts and open deals, and moves them on a merge.

-- CreateIndex
CREATE INDEX "companies_created_at_id_idx" ON "companies"("created_at", "id");

-- CreateIndex
CREATE INDEX "contacts_company_id_idx" ON "contacts"("company_id");

-- CreateIndex
CREATE INDEX "deals_company_id_idx" ON "deals"("company_id");
