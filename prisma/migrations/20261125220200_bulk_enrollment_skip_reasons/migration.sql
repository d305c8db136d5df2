-- AlterTable
ALTER TABLE "bulk_enrollments" ADD COLUMN "skip_reasons" JSONB NOT NULL DEFAULT '{}';
