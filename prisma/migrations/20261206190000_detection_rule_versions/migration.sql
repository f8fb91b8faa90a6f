-- Detection rules keep every saved version with its author and a comment, as policies, playbooks
-- and risk settings do (SOC 2 CC8.1 looks at all four). A setting saved before is kept as the
-- rule's version 1, with its author and no comment: the change-management test names it, since
-- nobody said why it was made.
CREATE TABLE "detection_rule_versions" (
    "rule" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "enabled" BOOLEAN NOT NULL,
    "severity" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "join_window_minutes" INTEGER NOT NULL,
    "comment" TEXT NOT NULL,
    "author_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "detection_rule_versions_pkey" PRIMARY KEY ("rule","version")
);

INSERT INTO "detection_rule_versions" ("rule", "version", "enabled", "severity", "params", "join_window_minutes", "comment", "author_id", "created_at")
SELECT "rule", 1, "enabled", "severity", "params", "join_window_minutes", '', "updated_by", "updated_at" FROM "detection_rule_settings";

DROP TABLE "detection_rule_settings";
