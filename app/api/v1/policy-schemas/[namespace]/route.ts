import { deleteSchemaAnswer, getSchemaAnswer, putSchemaAnswer } from "@/lib/policy";
export const dynamic = "force-dynamic";

// One service's Cedar schema: read, register or replace (text/plain), remove (lib/policy/schema-api.ts).
type Params = { params: Promise<{ namespace: string }> };

export const GET = async (request: Request, { params }: Params) => getSchemaAnswer(request, (await params).namespace);
export const PUT = async (request: Request, { params }: Params) => putSchemaAnswer(request, (await params).namespace);
export const DELETE = async (request: Request, { params }: Params) => deleteSchemaAnswer(request, (await params).namespace);
