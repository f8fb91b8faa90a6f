// Prints a fresh set of Gatehouse secrets as environment assignments, for a production setup.
import { generateSecrets } from "../lib/local-secrets";

for (const [name, value] of Object.entries(generateSecrets())) console.log(`${name}=${value}`);
