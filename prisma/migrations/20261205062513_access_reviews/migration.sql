-- CreateTable
CREATE TABLE "access_reviews" (
    "id" UUID NOT NULL,
    "started_by" UUID,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_by" UUID,
    "completed_at" TIMESTAMPTZ(3),
    "digest" TEXT,

    CONSTRAINT "access_reviews_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "access_review_items" (
    "review_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "roles" TEXT[],
    "groups" TEXT[],
    "disabled" BOOLEAN NOT NULL,
    "last_sign_in_at" TIMESTAMPTZ(3),
    "second_factors" TEXT NOT NULL,
    "decision" TEXT,
    "note" TEXT,
    "decided_by" UUID,
    "decided_by_email" TEXT,
    "decided_at" TIMESTAMPTZ(3),

    CONSTRAINT "access_review_items_pkey" PRIMARY KEY ("review_id","user_id")
);

-- CreateIndex
CREATE INDEX "access_reviews_completed_at_idx" ON "access_reviews"("completed_at");

-- CreateIndex
CREATE INDEX "access_review_items_review_id_decision_idx" ON "access_review_items"("review_id", "decision");

-- AddForeignKey
ALTER TABLE "access_review_items" ADD CONSTRAINT "access_review_items_review_id_fkey" FOREIGN KEY ("review_id") REFERENCES "access_reviews"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One open review at a time: two admins starting one at once get one review, not two.
CREATE UNIQUE INDEX "access_reviews_one_open" ON "access_reviews" ((true)) WHERE "completed_at" IS NULL;

-- A decision is one of three words, decided by someone at some time, or none of these.
ALTER TABLE "access_review_items" ADD CONSTRAINT "access_review_items_decision" CHECK (
  ("decision" IS NULL AND "decided_by" IS NULL AND "decided_by_email" IS NULL AND "decided_at" IS NULL)
  OR ("decision" IN ('keep', 'reduce', 'disable') AND "decided_at" IS NOT NULL)
);
