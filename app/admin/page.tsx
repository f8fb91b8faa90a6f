import type { Metadata } from "next";
import { PageHeader } from "@/components/shell/page-header";
import { requireConsole } from "@/lib/auth";
import type { ConsoleSection } from "@/lib/policy";
import { AuditChainTile, ComplianceTile, IncidentsTile, MfaEnrollmentTile, SignInRiskTile, SigningKeysTile } from "./status-tiles";

export const metadata: Metadata = { title: "Overview" };

// Most urgent first. Each tile belongs to a section and shows only to those who may view it.
const TILES: readonly { section: ConsoleSection; Tile: () => Promise<React.ReactNode> }[] = [
  { section: "incidents", Tile: IncidentsTile },
  { section: "risk", Tile: SignInRiskTile },
  { section: "compliance", Tile: ComplianceTile },
  { section: "audit", Tile: AuditChainTile },
  { section: "users", Tile: MfaEnrollmentTile },
  { section: "keys", Tile: SigningKeysTile },
];

export default async function AdminHome() {
  const { sections } = await requireConsole();
  const viewable = new Set(sections.map((s) => s.id));
  const tiles = TILES.filter((t) => viewable.has(t.section));
  return (
    <>
      <PageHeader title="Overview" description="How things stand in the parts of the console you may see." />
      {tiles.length === 0 ? (
        <p className="text-sm text-slate-500">Nothing to report for your sections here: open them from the menu.</p>
      ) : (
        <div className="grid gap-4 md:grid-cols-2">
          {tiles.map(({ section, Tile }) => <Tile key={section} />)}
        </div>
      )}
    </>
  );
}
