-- AlterEnum
ALTER TYPE "SessionStage" ADD VALUE 'password_change_required';
