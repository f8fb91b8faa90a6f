-- CreateTable
CREATE TABLE "compliance_runs" (
    "id" UUID NOT NULL,
    "trigger" TEXT NOT NULL,
    "actor_id" UUID,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "compliance_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "compliance_results" (
    "id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "control" TEXT NOT NULL,
    "check" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "summary" TEXT NOT NULL,
    "evidence" TEXT NOT NULL,
    "evidence_sha256" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "compliance_results_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "compliance_exceptions" (
    "id" UUID NOT NULL,
    "control" TEXT NOT NULL,
    "justification" TEXT NOT NULL,
    "requested_by" UUID,
    "approved_by" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "compliance_exceptions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "compliance_runs_started_at_idx" ON "compliance_runs"("started_at");

-- CreateIndex
CREATE INDEX "compliance_results_control_at_idx" ON "compliance_results"("control", "at");

-- CreateIndex
CREATE INDEX "compliance_results_run_id_idx" ON "compliance_results"("run_id");

-- CreateIndex
CREATE INDEX "compliance_exceptions_control_expires_at_idx" ON "compliance_exceptions"("control", "expires_at");

-- AddForeignKey
ALTER TABLE "compliance_results" ADD CONSTRAINT "compliance_results_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "compliance_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
