-- AlterTable
ALTER TABLE "triggers" ADD COLUMN     "signing_secret" TEXT;

-- CreateIndex
CREATE INDEX "trigger_runs_trigger_id_at_idx" ON "trigger_runs"("trigger_id", "at");
