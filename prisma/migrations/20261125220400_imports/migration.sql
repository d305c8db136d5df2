-- CreateEnum
CREATE TYPE "ImportStatus" AS ENUM ('uploading', 'queued', 'running', 'cancelling', 'completed', 'cancelled', 'failed');

-- AlterTable
ALTER TABLE "contacts" ADD COLUMN     "country" TEXT;

-- CreateTable
CREATE TABLE "imports" (
    "id" UUID NOT NULL,
    "status" "ImportStatus" NOT NULL DEFAULT 'uploading',
    "dry_run" BOOLEAN NOT NULL DEFAULT false,
    "file_name" TEXT,
    "options" JSONB NOT NULL,
    "byte_size" BIGINT NOT NULL DEFAULT 0,
    "chunk_size" INTEGER NOT NULL,
    "byte_offset" BIGINT NOT NULL DEFAULT 0,
    "next_line" INTEGER NOT NULL DEFAULT 1,
    "rows_read" INTEGER NOT NULL DEFAULT 0,
    "created" INTEGER NOT NULL DEFAULT 0,
    "updated" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "preview" JSONB NOT NULL DEFAULT '[]',
    "error" TEXT,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "imports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "import_chunks" (
    "import_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "import_chunks_pkey" PRIMARY KEY ("import_id","seq")
);

-- CreateTable
CREATE TABLE "import_row_errors" (
    "import_id" UUID NOT NULL,
    "line" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "column" TEXT,
    "reason" TEXT NOT NULL,
    "value" TEXT,

    CONSTRAINT "import_row_errors_pkey" PRIMARY KEY ("import_id","line","seq")
);

-- CreateTable
CREATE TABLE "import_dry_run_entries" (
    "import_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,

    CONSTRAINT "import_dry_run_entries_pkey" PRIMARY KEY ("import_id","key")
);

-- CreateIndex
CREATE INDEX "imports_created_at_id_idx" ON "imports"("created_at", "id");

-- AddForeignKey
ALTER TABLE "import_chunks" ADD CONSTRAINT "import_chunks_import_id_fkey" FOREIGN KEY ("import_id") REFERENCES "imports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "import_row_errors" ADD CONSTRAINT "import_row_errors_import_id_fkey" FOREIGN KEY ("import_id") REFERENCES "imports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "import_dry_run_entries" ADD CONSTRAINT "import_dry_run_entries_import_id_fkey" FOREIGN KEY ("import_id") REFERENCES "imports"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Hand-written: CSV chunks are read once and deleted when the import ends, so they are stored
-- uncompressed: no TOAST compression on every upload, no decompression on every read.
ALTER TABLE "import_chunks" ALTER COLUMN "data" SET STORAGE EXTERNAL;
