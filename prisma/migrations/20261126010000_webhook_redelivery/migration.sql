-- AlterTable: the event name moves onto the delivery, so a redelivery can send it again.
ALTER TABLE "webhook_deliveries" ADD COLUMN     "event" TEXT,
ADD COLUMN     "redelivery_of" UUID;

-- Existing deliveries: the event of the trigger version that ran them (from its ledger row),
-- else the standard event's own type, else the trigger's published version (still pending).
UPDATE "webhook_deliveries" AS d
SET "event" = CASE WHEN v."definition"->>'event' = 'leave' THEN 'deal.stage_left' ELSE 'deal.stage_entered' END
FROM "trigger_runs" AS r
JOIN "trigger_versions" AS v ON v."trigger_id" = r."trigger_id" AND v."version" = r."version"
WHERE d."idempotency_key" = 'trigger:' || r."trigger_id" || ':' || r."stage_change_id" || ':' || r."action_index";

UPDATE "webhook_deliveries"
SET "event" = "payload"->>'type'
WHERE "event" IS NULL AND "payload"->>'type' IN ('deal.stage_entered', 'deal.stage_left');

UPDATE "webhook_deliveries" AS d
SET "event" = CASE WHEN v."definition"->>'event' = 'leave' THEN 'deal.stage_left' ELSE 'deal.stage_entered' END
FROM "triggers" AS t
JOIN "trigger_versions" AS v ON v."trigger_id" = t."id" AND v."version" = t."published_version"
WHERE d."event" IS NULL AND d."trigger_id" = t."id";

UPDATE "webhook_deliveries" SET "event" = 'deal.stage_entered' WHERE "event" IS NULL;

ALTER TABLE "webhook_deliveries" ALTER COLUMN "event" SET NOT NULL;

-- CreateIndex
CREATE INDEX "webhook_deliveries_redelivery_of_idx" ON "webhook_deliveries"("redelivery_of");
