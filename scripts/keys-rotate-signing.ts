// `npm run keys:rotate-signing`: a new Ed25519 key for audit checkpoints and export manifests.
// With GATEHOUSE_SIGNING_KEY in the environment (production), prints the two new assignments to
// store in your secret manager before restarting every instance. On the quick start (no key in
// the environment) it rotates the key kept in <GATEHOUSE_DATA_DIR>/secrets.json.
// Either way the retired public key stays trusted, so older checkpoints and exports still verify,
// and at the next start Gatehouse records the rotation and signs the chain head with the new key.
import path from "node:path";
import { rotateSigningKeyEnv } from "../lib/crypto/keys";
import { rotateLocalSigningKey } from "../lib/local-secrets";

const { GATEHOUSE_SIGNING_KEY: current, GATEHOUSE_SIGNING_PREVIOUS_KEYS: retired, GATEHOUSE_DATA_DIR: dataDir = "./data" } = process.env;
if (current) {
  for (const [name, value] of Object.entries(rotateSigningKeyEnv(current, retired))) console.log(`${name}=${value}`);
} else if (rotateLocalSigningKey(path.resolve(dataDir))) {
  console.log(`Rotated the audit signing key in ${path.join(path.resolve(dataDir), "secrets.json")}. Restart Gatehouse to start signing with it.`);
} else {
  console.error("No GATEHOUSE_SIGNING_KEY in the environment and no secrets.json in GATEHOUSE_DATA_DIR: nothing to rotate.");
  process.exitCode = 1;
}
