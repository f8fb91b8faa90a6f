-- AlterTable
ALTER TABLE "login_attempts" ADD COLUMN     "assess_micros" INTEGER,
ADD COLUMN     "city" TEXT,
ADD COLUMN     "country" TEXT,
ADD COLUMN     "decision" TEXT,
ADD COLUMN     "device_id" UUID,
ADD COLUMN     "factors" JSONB,
ADD COLUMN     "latitude" DOUBLE PRECISION,
ADD COLUMN     "longitude" DOUBLE PRECISION,
ADD COLUMN     "method" TEXT NOT NULL DEFAULT 'password',
ADD COLUMN     "network" TEXT,
ADD COLUMN     "reported_at" TIMESTAMPTZ(3),
ADD COLUMN     "risk_score" DOUBLE PRECISION,
ADD COLUMN     "session_id" UUID,
ADD COLUMN     "settings_version" INTEGER;

-- CreateTable
CREATE TABLE "risk_baselines" (
    "user_id" UUID NOT NULL,
    "sign_ins" INTEGER NOT NULL DEFAULT 0,
    "countries" JSONB NOT NULL DEFAULT '{}',
    "networks" JSONB NOT NULL DEFAULT '{}',
    "hours" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
    "last_at" TIMESTAMPTZ(3),
    "last_latitude" DOUBLE PRECISION,
    "last_longitude" DOUBLE PRECISION,
    "last_place" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "risk_baselines_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "risk_settings_versions" (
    "version" SERIAL NOT NULL,
    "settings" JSONB NOT NULL,
    "author_id" UUID,
    "comment" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "risk_settings_versions_pkey" PRIMARY KEY ("version")
);

-- CreateTable
CREATE TABLE "ip_rules" (
    "id" UUID NOT NULL,
    "cidr" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "note" TEXT NOT NULL,
    "created_by" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3),

    CONSTRAINT "ip_rules_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ip_rules_expires_at_idx" ON "ip_rules"("expires_at");

-- CreateIndex
CREATE INDEX "login_attempts_risk_score_at_idx" ON "login_attempts"("risk_score", "at");

-- CreateIndex
CREATE INDEX "login_attempts_email_at_idx" ON "login_attempts"("email", "at");

-- AddForeignKey
ALTER TABLE "risk_baselines" ADD CONSTRAINT "risk_baselines_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
