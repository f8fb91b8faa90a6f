-- CreateTable
CREATE TABLE "sign_ins_in_flight" (
    "source" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "accounts" JSONB NOT NULL DEFAULT '{}',
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sign_ins_in_flight_pkey" PRIMARY KEY ("source")
);
