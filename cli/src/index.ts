export { type CliIo, runCli, USAGE } from "./cli.ts";
export { type ServiceTokenRequest, serviceToken } from "./service-token.ts";
