-- CreateEnum
CREATE TYPE "EnrollmentStatus" AS ENUM ('active', 'paused', 'completed', 'exited');

-- AlterEnum
ALTER TYPE "LifecycleStage" ADD VALUE 'churned';

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "ActivityType" ADD VALUE 'email_reply';
ALTER TYPE "ActivityType" ADD VALUE 'meeting_booked';
ALTER TYPE "ActivityType" ADD VALUE 'custom';
ALTER TYPE "ActivityType" ADD VALUE 'lifecycle_changed';

-- AlterTable
ALTER TABLE "contacts" ADD COLUMN     "last_purchase_at" TIMESTAMPTZ(3),
ADD COLUMN     "score_as_of" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "forms" ADD COLUMN     "enroll_sequence_id" UUID;

-- CreateTable
CREATE TABLE "sequences" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "latest_version" INTEGER NOT NULL DEFAULT 1,
    "published_version" INTEGER,
    "created_by_id" UUID,
    "archived_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sequences_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sequence_versions" (
    "id" UUID NOT NULL,
    "sequence_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'draft',
    "definition" JSONB NOT NULL,
    "template_pins" JSONB NOT NULL DEFAULT '{}',
    "created_by_id" UUID,
    "published_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sequence_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "enrollments" (
    "id" UUID NOT NULL,
    "sequence_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "contact_id" UUID NOT NULL,
    "status" "EnrollmentStatus" NOT NULL DEFAULT 'active',
    "active_key" TEXT,
    "source" TEXT NOT NULL,
    "source_ref" TEXT,
    "source_key" TEXT,
    "enrolled_by_id" UUID,
    "workflow_id" TEXT NOT NULL,
    "current_step_key" TEXT,
    "variants" JSONB NOT NULL DEFAULT '{}',
    "stop_reason" TEXT,
    "stop_detail" TEXT,
    "converted" BOOLEAN NOT NULL DEFAULT false,
    "enrolled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "enrollments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "enrollment_steps" (
    "id" UUID NOT NULL,
    "enrollment_id" UUID NOT NULL,
    "sequence_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "step_key" TEXT NOT NULL,
    "step_type" TEXT NOT NULL,
    "visit" INTEGER NOT NULL DEFAULT 1,
    "outcome" TEXT NOT NULL,
    "variant" TEXT,
    "message_id" UUID,
    "task_id" UUID,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "enrollment_steps_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bulk_enrollments" (
    "id" UUID NOT NULL,
    "sequence_id" UUID NOT NULL,
    "filter" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "matched" INTEGER NOT NULL DEFAULT 0,
    "enrolled" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "cursor" TEXT,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "bulk_enrollments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scoring_rules" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "match" JSONB NOT NULL DEFAULT '{}',
    "points" INTEGER NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "scoring_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lifecycle_rules" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "match" JSONB NOT NULL DEFAULT '{}',
    "from_stages" "LifecycleStage"[],
    "to_stage" "LifecycleStage" NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "lifecycle_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "automation_settings" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_by_id" UUID,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "automation_settings_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "sequences_created_at_id_idx" ON "sequences"("created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "sequence_versions_sequence_id_version_key" ON "sequence_versions"("sequence_id", "version");

-- CreateIndex
CREATE UNIQUE INDEX "enrollments_active_key_key" ON "enrollments"("active_key");

-- CreateIndex
CREATE UNIQUE INDEX "enrollments_source_key_key" ON "enrollments"("source_key");

-- CreateIndex
CREATE INDEX "enrollments_sequence_id_status_idx" ON "enrollments"("sequence_id", "status");

-- CreateIndex
CREATE INDEX "enrollments_sequence_id_version_idx" ON "enrollments"("sequence_id", "version");

-- CreateIndex
CREATE INDEX "enrollments_contact_id_status_idx" ON "enrollments"("contact_id", "status");

-- CreateIndex
CREATE INDEX "enrollment_steps_sequence_id_version_step_key_idx" ON "enrollment_steps"("sequence_id", "version", "step_key");

-- CreateIndex
CREATE INDEX "enrollment_steps_message_id_idx" ON "enrollment_steps"("message_id");

-- CreateIndex
CREATE UNIQUE INDEX "enrollment_steps_enrollment_id_step_key_visit_key" ON "enrollment_steps"("enrollment_id", "step_key", "visit");

-- CreateIndex
CREATE INDEX "scoring_rules_event_type_active_idx" ON "scoring_rules"("event_type", "active");

-- CreateIndex
CREATE INDEX "lifecycle_rules_event_type_active_idx" ON "lifecycle_rules"("event_type", "active");

-- AddForeignKey
ALTER TABLE "sequence_versions" ADD CONSTRAINT "sequence_versions_sequence_id_fkey" FOREIGN KEY ("sequence_id") REFERENCES "sequences"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_sequence_id_fkey" FOREIGN KEY ("sequence_id") REFERENCES "sequences"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_contact_id_fkey" FOREIGN KEY ("contact_id") REFERENCES "contacts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "enrollment_steps" ADD CONSTRAINT "enrollment_steps_enrollment_id_fkey" FOREIGN KEY ("enrollment_id") REFERENCES "enrollments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

