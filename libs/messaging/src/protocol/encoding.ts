// Kafka's wire types (clients/src/main/resources/common/message/*.json, 3.9): what the requests
// this layer sends itself need, and no more.

/** Builds a request body field by field, in order. */
export class Writer {
  private readonly parts: Buffer[] = [];

  int8(value: number): this {
    const buffer = Buffer.alloc(1);
    buffer.writeInt8(value);
    return this.push(buffer);
  }

  int16(value: number): this {
    const buffer = Buffer.alloc(2);
    buffer.writeInt16BE(value);
    return this.push(buffer);
  }

  int32(value: number): this {
    const buffer = Buffer.alloc(4);
    buffer.writeInt32BE(value);
    return this.push(buffer);
  }

  /** Unsigned varint, 7 bits per byte, least significant group first. */
  uvarint(value: number): this {
    const bytes: number[] = [];
    let rest = value >>> 0;
    while (rest >= 0x80) {
      bytes.push((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    bytes.push(rest);
    return this.push(Buffer.from(bytes));
  }

  string(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    return this.int16(bytes.length).push(bytes);
  }

  compactString(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    return this.uvarint(bytes.length + 1).push(bytes);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }

  private push(buffer: Buffer): this {
    this.parts.push(buffer);
    return this;
  }
}

/** Reads a response field by field, in order; a short response throws. */
export class Reader {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  int16(): number {
    return this.buffer.readInt16BE(this.take(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.take(4));
  }

  int64(): bigint {
    return this.buffer.readBigInt64BE(this.take(8));
  }

  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.buffer.readUInt8(this.take(1));
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new Error('Malformed Kafka response: varint longer than 5 bytes');
  }

  string(): string {
    const value = this.nullableString();
    if (value === null) throw new Error('Malformed Kafka response: unexpected null string');
    return value;
  }

  nullableString(): string | null {
    const length = this.int16();
    return length < 0 ? null : this.utf8(length);
  }

  compactString(): string {
    const value = this.compactNullableString();
    if (value === null) throw new Error('Malformed Kafka response: unexpected null string');
    return value;
  }

  compactNullableString(): string | null {
    const length = this.uvarint() - 1;
    return length < 0 ? null : this.utf8(length);
  }

  compactArrayLength(): number {
    return Math.max(0, this.uvarint() - 1); // 0 encodes a null array
  }

  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      this.take(this.uvarint());
    }
  }

  private utf8(length: number): string {
    const start = this.take(length);
    return this.buffer.toString('utf8', start, start + length);
  }

  /** Claims the next `length` bytes and returns where they start. */
  private take(length: number): number {
    if (this.offset + length > this.buffer.length) {
      throw new Error('Malformed Kafka response: shorter than its fields');
    }
    const start = this.offset;
    this.offset += length;
    return start;
  }
}
