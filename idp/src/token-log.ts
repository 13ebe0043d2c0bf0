import { appendFileSync } from "node:fs";
import type { ServerResponse } from "node:http";

/**
 * TEST AID ONLY — enabled by IDP_INSECURE_TOKEN_LOG_FILE, refused in production.
 *
 * The end-to-end tests must prove that no real token ever reaches the browser.
 * To know what to look for, they need the real token values: this copies every
 * `access_token`, `refresh_token` and `id_token` that the token endpoint sends
 * (one per line) into a file, by watching the bytes of the POST /token response
 * on their way out. Nothing about the response itself changes.
 */
export function copyIssuedTokensTo(file: string, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  const collect = (chunk: unknown) => {
    if (typeof chunk === "string" || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  const originalWrite = res.write;
  const originalEnd = res.end;

  res.write = function write(this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    collect(chunk);
    return Reflect.apply(originalWrite, this, [chunk, ...rest]);
  } as ServerResponse["write"];

  res.end = function end(this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk !== "function") collect(chunk);
    if (res.statusCode === 200) appendTokens(file, Buffer.concat(chunks).toString("utf8"));
    return Reflect.apply(originalEnd, this, [chunk, ...rest]);
  } as ServerResponse["end"];
}

function appendTokens(file: string, body: string): void {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return;
  }
  const values = ["access_token", "refresh_token", "id_token"]
    .map((name) => parsed[name])
    .filter((value): value is string => typeof value === "string");
  // Synchronous on purpose: the file is complete before the client sees the response.
  if (values.length > 0) appendFileSync(file, `${values.join("\n")}\n`, { mode: 0o600 });
}
