/**
 * Where each part of the interop suite listens: the providers on their scripts' defaults,
 * this project's processes on 5500-5599 (clear of the e2e suite's 3000/4000/4001).
 */
export const INTEROP_PORTS = {
  glewlwyd: { provider: 4444, bff: 5510, api: 5511 },
  lemonldapNg: { provider: 4445, bff: 5520, api: 5521 },
  modAuthOpenidc: { relyingParty: 4446, idp: 5530 },
} as const;
