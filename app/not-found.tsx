import Link from "next/link";

export default function NotFound() {
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="max-w-md text-center">
        <p className="text-sm font-semibold text-brand-700">404</p>
        <h1 className="mt-2 text-2xl font-semibold">Page not found</h1>
        <Link href="/account" className="mt-6 inline-block text-sm font-medium text-brand-700 hover:underline">
          Back to my account
        </Link>
      </div>
    </main>
  );
}
