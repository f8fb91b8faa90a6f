// Not "server-only": plain URL arithmetic.

/** Is this URL hostname (as `new URL(…).hostname` gives it) this machine's loopback? */
export const isLoopbackHostname = (hostname: string): boolean => hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]";
