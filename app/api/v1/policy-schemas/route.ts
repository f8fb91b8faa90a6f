import { listSchemasAnswer } from "@/lib/policy";
export const dynamic = "force-dynamic";

/** GET /api/v1/policy-schemas: the services' registered Cedar schemas (bearer token with the pdp.schema scope; lib/policy/schema-api.ts). */
export const GET = (request: Request) => listSchemasAnswer(request);
