-- DropIndex
DROP INDEX "playbook_runs_incident_id_playbook_id_key";

-- AlterTable
ALTER TABLE "playbook_runs" ADD COLUMN     "alert_id" UUID;

-- CreateIndex
CREATE INDEX "playbook_runs_incident_id_idx" ON "playbook_runs"("incident_id");

-- CreateIndex
CREATE UNIQUE INDEX "playbook_runs_alert_id_playbook_id_key" ON "playbook_runs"("alert_id", "playbook_id");

-- AddForeignKey
ALTER TABLE "playbook_runs" ADD CONSTRAINT "playbook_runs_alert_id_fkey" FOREIGN KEY ("alert_id") REFERENCES "alerts"("id") ON DELETE CASCADE ON UPDATE CASCADE;
