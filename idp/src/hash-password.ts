/**
 * Prints the scrypt hash of a password read from stdin, for a users file.
 *
 *     printf '%s' 'a long passphrase' | node idp/src/hash-password.ts
 *
 * Reading stdin (rather than an argument) keeps the password out of the shell
 * history and out of the process list.
 */
import { hashPassword } from "./password.ts";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  }
  return Buffer.concat(chunks).toString("utf8");
}

if (process.stdin.isTTY) {
  process.stderr.write("Type the password, press Enter, then Ctrl-D (it will be visible while you type).\n");
}

// One trailing line break is what `echo` or the Enter key adds, not part of the password.
const password = (await readStdin()).replace(/\r?\n$/, "");

if (password.length === 0) {
  process.stderr.write("No password given on stdin.\n");
  process.exit(1);
}

process.stdout.write(`${await hashPassword(password)}\n`);
