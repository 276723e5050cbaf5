// Payloads in the remote codec protocol's JSON (proto3 JSON of temporal.api.common.v1.Payloads): every metadata
// value and the data are base64 strings. A malformed body is refused with the path of the first bad field.
import type { Payload } from '@temporalio/common';

export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export class PayloadsJsonError extends Error {
  override name = 'PayloadsJsonError';
}

// proto3 JSON accepts standard and URL-safe base64, padded or not.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function bytes(value: unknown, where: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new PayloadsJsonError(`${where} is not a base64 string`);
  return Buffer.from(value, 'base64');
}

/** `{ payloads: [...] }` → the SDK's payloads. */
export function payloadsFromJson(body: unknown): Payload[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new PayloadsJsonError('the body is not an object { "payloads": [...] }');
  const list = (body as { payloads?: unknown }).payloads;
  if (list === undefined) return []; // proto3 JSON leaves an empty repeated field out
  if (!Array.isArray(list)) throw new PayloadsJsonError('payloads is not an array');
  return list.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new PayloadsJsonError(`payloads[${i}] is not an object`);
    const { metadata, data } = item as { metadata?: unknown; data?: unknown };
    if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)))
      throw new PayloadsJsonError(`payloads[${i}].metadata is not an object`);
    const entries = Object.entries((metadata ?? {}) as Record<string, unknown>);
    return {
      metadata: Object.fromEntries(entries.map(([key, value]) => [key, bytes(value, `payloads[${i}].metadata.${key}`)])),
      data: data === undefined ? new Uint8Array() : bytes(data, `payloads[${i}].data`),
    };
  });
}

/** The SDK's payloads → `{ payloads: [...] }`. */
export function payloadsToJson(payloads: Payload[]): { payloads: JsonPayload[] } {
  const base64 = (value: Uint8Array | null | undefined) => Buffer.from(value ?? []).toString('base64');
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([key, value]) => [key, base64(value)])),
      data: base64(p.data),
    })),
  };
}
