import { z } from "zod";

/**
 * A list's search box as the query string brings it: trimmed, at most 100 characters, and without
 * NUL (PostgreSQL text cannot hold one: the query would fail). Anything else is ignored, not an error.
 */
export const searchTextParam = z.string().trim().max(100).refine((text) => !text.includes("\u0000")).optional().catch(undefined);
