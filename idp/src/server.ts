/**
 * Runs the IdP as a server: `node idp/src/server.ts`.
 * The only place that reads the environment (see env.ts for the variables).
 */
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

import { createIdp } from "./app.ts";
import { idpSettingsFromEnvironment } from "./env.ts";
import { IdpError } from "./errors.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

function fail(error: unknown): never {
  // Configuration problems are expected: say what is wrong, without a stack trace.
  console.error(error instanceof IdpError ? error.message : error);
  process.exit(1);
}

const settings = (() => {
  try {
    return idpSettingsFromEnvironment(process.env, repoRoot);
  } catch (error) {
    return fail(error);
  }
})();

const idp = await createIdp(settings.config).catch(fail);
const server = createServer(idp.listener);

server.on("error", (error) => fail(error));
server.listen(settings.port, settings.host, () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : settings.port;
  const note = new URL(idp.issuer).port === String(port) ? "" : ` (port ${port})`;
  console.log(`idp listening on ${idp.issuer}${note}`);
  for (const warning of settings.warnings) console.warn(`idp: WARNING: ${warning}`);
  if (settings.config.insecureTokenLogFile) {
    console.warn(
      "idp: IDP_INSECURE_TOKEN_LOG_FILE is set: issued tokens are copied to a file (test aid only)",
    );
  }
});

let stopping = false;
function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`idp: ${signal} received, stopping`);
  server.close(() => {
    void idp.close().then(() => process.exit(0));
  });
  // Keep-alive connections would otherwise hold the server open.
  server.closeAllConnections();
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
