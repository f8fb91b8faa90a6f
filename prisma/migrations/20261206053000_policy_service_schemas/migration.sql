-- CreateTable
CREATE TABLE "policy_service_schemas" (
    "namespace" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "owner_client_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "policy_service_schemas_pkey" PRIMARY KEY ("namespace")
);
