-- CreateTable
CREATE TABLE "audit_events" (
    "seq" BIGINT NOT NULL,
    "id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "type" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "actor_type" TEXT NOT NULL,
    "actor_id" TEXT,
    "actor_label" TEXT,
    "resource_type" TEXT,
    "resource_id" TEXT,
    "ip_cipher" TEXT,
    "ip_hash" TEXT,
    "user_agent_cipher" TEXT,
    "device_id" TEXT,
    "location" TEXT,
    "risk_score" DECIMAL(4,3),
    "policy_decisions" JSONB,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "search" tsvector,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "audit_chain_head" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "seq" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_chain_head_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_checkpoints" (
    "id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reason" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "signature" TEXT NOT NULL,

    CONSTRAINT "audit_checkpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_exports" (
    "id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),
    "actor_id" UUID NOT NULL,
    "format" TEXT NOT NULL,
    "filters" JSONB NOT NULL,
    "manifest" JSONB,

    CONSTRAINT "audit_exports_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_id_key" ON "audit_events"("id");

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

-- CreateIndex
CREATE INDEX "audit_events_actor_id_seq_idx" ON "audit_events"("actor_id", "seq");

-- CreateIndex
CREATE INDEX "audit_events_actor_label_seq_idx" ON "audit_events"("actor_label", "seq");

-- CreateIndex
CREATE INDEX "audit_events_type_action_seq_idx" ON "audit_events"("type", "action", "seq");

-- CreateIndex
CREATE INDEX "audit_events_outcome_seq_idx" ON "audit_events"("outcome", "seq");

-- CreateIndex
CREATE INDEX "audit_events_ip_hash_seq_idx" ON "audit_events"("ip_hash", "seq");

-- CreateIndex
CREATE INDEX "audit_events_resource_type_resource_id_seq_idx" ON "audit_events"("resource_type", "resource_id", "seq");

-- CreateIndex
CREATE INDEX "audit_events_search_idx" ON "audit_events" USING GIN ("search");

-- CreateIndex
CREATE UNIQUE INDEX "audit_checkpoints_seq_key" ON "audit_checkpoints"("seq");

-- CreateIndex
CREATE INDEX "audit_exports_created_at_idx" ON "audit_exports"("created_at");

-- Append-only audit trail (written by hand; Prisma does not model triggers).
-- UPDATE is always refused. DELETE and TRUNCATE are refused unless the transaction set
-- gatehouse.audit_purge = 'on', which only the retention purge in lib/audit does (after it has
-- written a signed checkpoint). Checkpoints are never changed or removed.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'audit_events' AND TG_OP IN ('DELETE', 'TRUNCATE')
     AND current_setting('gatehouse.audit_purge', true) = 'on' THEN
    IF TG_LEVEL = 'ROW' THEN RETURN OLD; END IF;
    RETURN NULL;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON "audit_checkpoints"
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON "audit_checkpoints"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- The chain starts from an all-zero hash.
INSERT INTO "audit_chain_head" ("id", "seq", "hash") VALUES (1, 0, repeat('0', 64));
