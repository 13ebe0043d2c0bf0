/**
 * `pnpm --filter @oidc-bff/idp rotate-keys`: puts a new signing key first in the
 * IdP's JWKS file (IDP_DATA_DIR/jwks.json, default <repo>/.data/idp/jwks.json),
 * keeping the previous ones published. Restart the IdP afterwards; the BFF and
 * the API need no restart (they fetch the JWKS again on an unknown `kid`).
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { idpDataDir } from "./env.ts";
import { rotateSigningKeys } from "./keys.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const dataDir = idpDataDir(process.env, repoRoot);
const keysPath = join(dataDir, "jwks.json");
const { kid, published } = rotateSigningKeys(keysPath);
console.log(`idp: new signing key ${kid} in ${keysPath}`);
console.log(`idp: published keys, newest first: ${published.join(", ")}`);
console.log("idp: restart the IdP to sign with it.");
