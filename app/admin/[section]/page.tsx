import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { ADMIN_SECTIONS, requireAccess } from "@/lib/auth";

// Console sections that are not built yet. A built section has its own folder, which takes
// precedence over this route. Access is checked exactly as it will be for the real page.
function unbuiltSection(slug: string) {
  return ADMIN_SECTIONS.find((s) => s.href === `/admin/${slug}` && !s.built);
}

export async function generateMetadata({ params }: { params: Promise<{ section: string }> }): Promise<Metadata> {
  return { title: unbuiltSection((await params).section)?.label ?? "Not found" };
}

export default async function UnbuiltSectionPage({ params }: { params: Promise<{ section: string }> }) {
  const section = unbuiltSection((await params).section);
  if (!section) notFound();
  await requireAccess(section.id);
  return (
    <>
      <PageHeader title={section.label} description={section.summary} />
      <Card title="Not built yet">
        <p className="text-sm text-slate-600">
          This part of Gatehouse does not exist yet. Nothing here is simulated: when it is built, this page will show real data.
        </p>
      </Card>
    </>
  );
}
