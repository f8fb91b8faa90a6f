-- AlterTable
ALTER TABLE "login_attempts" ADD COLUMN     "credentials_proven" BOOLEAN NOT NULL DEFAULT false;

-- Earlier attempts: a success proved its credentials. A refused or blocked one may have been
-- refused before the password was checked (a blocked source), and is not told apart from one
-- refused after: it stays unproven, so its place can no longer be trusted from the console.
UPDATE "login_attempts" SET "credentials_proven" = true WHERE "outcome" = 'success';
