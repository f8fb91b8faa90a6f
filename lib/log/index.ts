// lib/log's public surface: the application log file and the scan of it for leaked secrets.
export { logFilePath, logFiles, teeOutputToLogFile, writeToTerminalOnly } from "./file";
export { scanLogsForSecrets, SECRET_PATTERNS, type LogScan } from "./scan";
