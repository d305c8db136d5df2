-- AlterEnum
BEGIN;
CREATE TYPE "MessageStatus_new" AS ENUM ('pending', 'sending', 'unknown', 'accepted', 'queued', 'sent', 'deferred', 'delivered', 'opened', 'clicked', 'undelivered', 'bounced', 'dropped', 'spam_reported', 'unsubscribed', 'failed', 'skipped');
ALTER TABLE "messages" ALTER COLUMN "status" DROP DEFAULT;
ALTER TABLE "messages" ALTER COLUMN "status" TYPE "MessageStatus_new" USING ((CASE WHEN "status"::text = 'suppressed' THEN 'skipped' ELSE "status"::text END)::"MessageStatus_new");
ALTER TYPE "MessageStatus" RENAME TO "MessageStatus_old";
ALTER TYPE "MessageStatus_new" RENAME TO "MessageStatus";
DROP TYPE "MessageStatus_old";
ALTER TABLE "messages" ALTER COLUMN "status" SET DEFAULT 'pending';
COMMIT;

-- AlterTable
ALTER TABLE "contact_emails" ADD COLUMN     "bounce_reason" TEXT;

-- CreateTable
CREATE TABLE "consent_events" (
    "id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "channel" "Channel" NOT NULL,
    "status" "ConsentStatus" NOT NULL,
    "source" TEXT NOT NULL,
    "method" TEXT,
    "ip" TEXT,
    "user_agent" TEXT,
    "evidence" JSONB NOT NULL DEFAULT '{}',
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consent_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "email_bounces" (
    "id" UUID NOT NULL,
    "address" TEXT NOT NULL,
    "contact_id" UUID,
    "message_id" UUID,
    "kind" TEXT NOT NULL,
    "reason" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "email_bounces_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message_events" (
    "id" UUID NOT NULL,
    "message_id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "provider_event_id" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "message_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "consent_events_contact_id_channel_at_idx" ON "consent_events"("contact_id", "channel", "at");

-- CreateIndex
CREATE INDEX "email_bounces_address_at_idx" ON "email_bounces"("address", "at");

-- CreateIndex
CREATE INDEX "message_events_message_id_occurred_at_idx" ON "message_events"("message_id", "occurred_at");

-- CreateIndex
CREATE INDEX "messages_contact_id_channel_transactional_created_at_idx" ON "messages"("contact_id", "channel", "transactional", "created_at");

-- AddForeignKey
ALTER TABLE "message_events" ADD CONSTRAINT "message_events_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

