/**
 * Confluent's wire format for a schema-registry value: a zero magic byte, the writer schema's
 * registry id as 4 big-endian bytes, then the body (Avro binary here, no container header).
 */
export type ConfluentFrame =
  { ok: true; schemaId: number; body: Buffer } | { ok: false; reason: string };

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

/** Whether a value claims the Confluent framing: by its content type, or by its first byte. */
export function looksConfluentFramed(value: Buffer, contentType: string | undefined): boolean {
  return contentType === 'application/avro' || (value.length > 0 && value[0] === MAGIC_BYTE);
}

export function readConfluentFrame(value: Buffer): ConfluentFrame {
  if (value.length === 0 || value[0] !== MAGIC_BYTE)
    return {
      ok: false,
      reason: `bad magic byte ${value.length === 0 ? '(empty value)' : `0x${value[0]!.toString(16).padStart(2, '0')}`}: a Confluent-framed value starts with 0x00`,
    };
  if (value.length < HEADER_BYTES)
    return {
      ok: false,
      reason: `truncated Confluent framing: ${value.length} bytes, the header alone takes ${HEADER_BYTES}`,
    };
  return { ok: true, schemaId: value.readUInt32BE(1), body: value.subarray(HEADER_BYTES) };
}
