-- AlterTable
ALTER TABLE "companies" ADD COLUMN     "name_key" TEXT;

-- AlterTable
ALTER TABLE "contacts" ADD COLUMN     "merged_into_id" UUID;

-- CreateTable
CREATE TABLE "contact_match_keys" (
    "key" TEXT NOT NULL,
    "contact_id" UUID NOT NULL,

    CONSTRAINT "contact_match_keys_pkey" PRIMARY KEY ("key","contact_id")
);

-- CreateTable
CREATE TABLE "duplicate_candidates" (
    "id" UUID NOT NULL,
    "contact_a_id" UUID NOT NULL,
    "contact_b_id" UUID NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "reasons" TEXT[],
    "status" TEXT NOT NULL DEFAULT 'open',
    "audit_key" TEXT NOT NULL,
    "review_task_id" UUID,
    "resolved_by_id" TEXT,
    "resolved_at" TIMESTAMPTZ(3),
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "duplicate_candidates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "required_field_rules" (
    "id" UUID NOT NULL,
    "lifecycle_stage" "LifecycleStage",
    "stage_id" UUID,
    "fields" TEXT[],
    "updated_by_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "required_field_rules_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "contact_match_keys_contact_id_idx" ON "contact_match_keys"("contact_id");

-- CreateIndex
CREATE INDEX "duplicate_candidates_status_score_id_idx" ON "duplicate_candidates"("status", "score" DESC, "id");

-- CreateIndex
CREATE INDEX "duplicate_candidates_contact_b_id_idx" ON "duplicate_candidates"("contact_b_id");

-- CreateIndex
CREATE INDEX "duplicate_candidates_review_task_id_idx" ON "duplicate_candidates"("review_task_id");

-- CreateIndex
CREATE UNIQUE INDEX "duplicate_candidates_contact_a_id_contact_b_id_key" ON "duplicate_candidates"("contact_a_id", "contact_b_id");

-- CreateIndex
CREATE UNIQUE INDEX "required_field_rules_lifecycle_stage_key" ON "required_field_rules"("lifecycle_stage");

-- CreateIndex
CREATE UNIQUE INDEX "required_field_rules_stage_id_key" ON "required_field_rules"("stage_id");

-- CreateIndex
CREATE INDEX "companies_name_key_idx" ON "companies"("name_key");

-- AddForeignKey
ALTER TABLE "required_field_rules" ADD CONSTRAINT "required_field_rules_stage_id_fkey" FOREIGN KEY ("stage_id") REFERENCES "stages"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Hand-written: a rule guards exactly one thing, and a pair is stored once, in id order.
ALTER TABLE "required_field_rules" ADD CONSTRAINT "required_field_rules_one_target" CHECK (("lifecycle_stage" IS NULL) <> ("stage_id" IS NULL));
ALTER TABLE "duplicate_candidates" ADD CONSTRAINT "duplicate_candidates_ordered_pair" CHECK ("contact_a_id" < "contact_b_id");
