// Runs once when the Next.js server starts, inside its runtime.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { announceFirstAdminPath } = await import("./lib/auth/bootstrap");
  await announceFirstAdminPath();
}
