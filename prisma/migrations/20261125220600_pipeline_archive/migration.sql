-- Removed stages and pipelines are archived, not deleted: stage changes, closed deals and
-- reports keep naming them. Names and positions stay unique among live rows only, which
-- needs partial unique indexes (Prisma's schema cannot declare them, see schema.prisma).

-- AlterTable
ALTER TABLE "pipelines" ADD COLUMN "archived_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "stages" ADD COLUMN "archived_at" TIMESTAMPTZ(3);

-- DropIndex
DROP INDEX "pipelines_name_key";

-- DropIndex
DROP INDEX "stages_pipeline_id_position_key";

-- DropIndex
DROP INDEX "stages_pipeline_id_name_key";

-- CreateIndex
CREATE UNIQUE INDEX "pipelines_live_name_key" ON "pipelines"("name") WHERE "archived_at" IS NULL;

-- CreateIndex
CREATE UNIQUE INDEX "stages_live_pipeline_id_position_key" ON "stages"("pipeline_id", "position") WHERE "archived_at" IS NULL;

-- CreateIndex
CREATE UNIQUE INDEX "stages_live_pipeline_id_name_key" ON "stages"("pipeline_id", "name") WHERE "archived_at" IS NULL;

-- CreateIndex
CREATE INDEX "stages_pipeline_id_idx" ON "stages"("pipeline_id");

-- CreateIndex
CREATE INDEX "deals_created_at_id_idx" ON "deals"("created_at", "id");

-- CreateIndex
CREATE INDEX "deal_stage_changes_to_stage_id_changed_at_idx" ON "deal_stage_changes"("to_stage_id", "changed_at");
