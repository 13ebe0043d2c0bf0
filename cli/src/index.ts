export { type CliIo, LOGIN_SCOPE, runCli, USAGE } from "./cli.ts";
export {
  type DeviceLoginRequest,
  type DeviceLoginResult,
  type DevicePrompt,
  deviceLogin,
} from "./device-login.ts";
export { CLI_ERROR_CODES, CliError, type CliErrorCode, EXIT_CODES } from "./errors.ts";
export { type ServiceTokenRequest, serviceToken } from "./service-token.ts";
export { readTokenFile, type StoredTokens, tokenFilePath, writeTokenFile } from "./token-file.ts";
