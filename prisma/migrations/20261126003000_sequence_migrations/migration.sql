-- AlterTable
ALTER TABLE "enrollments" ADD COLUMN     "migration_id" UUID;

-- CreateTable
CREATE TABLE "sequence_migrations" (
    "id" UUID NOT NULL,
    "sequence_id" UUID NOT NULL,
    "from_version" INTEGER NOT NULL,
    "to_version" INTEGER NOT NULL,
    "mapping" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "matched" INTEGER NOT NULL DEFAULT 0,
    "migrated" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "cursor" UUID,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "sequence_migrations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sequence_migrations_sequence_id_created_at_idx" ON "sequence_migrations"("sequence_id", "created_at");

-- CreateIndex
CREATE INDEX "enrollments_migration_id_idx" ON "enrollments"("migration_id");

