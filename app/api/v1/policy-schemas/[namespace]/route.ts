import { schemaAnswer } from "@/lib/policy";
export const dynamic = "force-dynamic";

type Params = { params: Promise<{ namespace: string }> };

// One service's Cedar schema: read, register or replace (text/plain), remove (lib/policy/schema-api.ts).
const answer = async (request: Request, { params }: Params) => schemaAnswer(request, (await params).namespace);
export { answer as GET, answer as PUT, answer as DELETE };
