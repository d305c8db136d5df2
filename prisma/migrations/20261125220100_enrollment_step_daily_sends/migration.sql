-- CreateIndex
CREATE INDEX "enrollment_steps_sequence_id_outcome_at_idx" ON "enrollment_steps"("sequence_id", "outcome", "at");
