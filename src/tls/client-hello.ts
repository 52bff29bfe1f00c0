// Reads the server name (SNI) from the first bytes of a TLS connection, before any TLS library
// reads them. Node.js applies only the certificate of a context chosen in SNICallback, never its
// TLS versions, ciphers or curves, so per-host TLS options must be picked from the ClientHello
// before the connection is handed to a TLS server that was created with those options.

/** Outcome of reading a ClientHello from the bytes received so far. */
export type ClientHelloResult =
  /** More bytes are needed. */
  | { status: 'incomplete' }
  /**
   * The ClientHello was read. `serverName` is absent when the client sent none, and
   * `alpnProtocols` is empty when it offered no application protocol (RFC 7301).
   */
  | { status: 'complete'; serverName?: string; alpnProtocols: string[] }
  /** The bytes are no ClientHello Berth can read; the TLS library will reject or serve them as usual. */
  | { status: 'invalid'; reason: string };

const RECORD_HEADER_LENGTH = 5;
const CONTENT_TYPE_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXTENSION_SERVER_NAME = 0x0000;
const EXTENSION_ALPN = 0x0010;
const NAME_TYPE_HOST_NAME = 0x00;
/** Longest ClientHello read: 64 KiB, four full records, far above the few kilobytes that clients send. */
const MAX_CLIENT_HELLO_LENGTH = 0x10000;

/**
 * Reads the ClientHello at the start of `bytes`, which may span several handshake records
 * (RFC 8446 section 5.1), and returns its server name (RFC 6066 section 3) in lower case and the
 * application protocols it offers (RFC 7301 section 3.1).
 */
export function readClientHello(bytes: Buffer): ClientHelloResult {
  const message = handshakeMessage(bytes);
  if (message.status !== 'complete') return message;
  return parseClientHello(message.body);
}

type MessageResult = { status: 'incomplete' } | { status: 'invalid'; reason: string } | { status: 'complete'; body: Buffer };

/** Joins the fragments of the first handshake message and returns its body once all of it arrived. */
function handshakeMessage(bytes: Buffer): MessageResult {
  const fragments: Buffer[] = [];
  let collected = 0;
  let expected: number | undefined;
  let offset = 0;

  while (expected === undefined || collected < expected + 4) {
    if (bytes.length < offset + RECORD_HEADER_LENGTH) return { status: 'incomplete' };
    if (bytes[offset] !== CONTENT_TYPE_HANDSHAKE) return { status: 'invalid', reason: 'the record is not a handshake record' };
    const recordLength = bytes.readUInt16BE(offset + 3);
    if (recordLength === 0) return { status: 'invalid', reason: 'the handshake record is empty' };
    if (bytes.length < offset + RECORD_HEADER_LENGTH + recordLength) return { status: 'incomplete' };

    fragments.push(bytes.subarray(offset + RECORD_HEADER_LENGTH, offset + RECORD_HEADER_LENGTH + recordLength));
    collected += recordLength;
    offset += RECORD_HEADER_LENGTH + recordLength;

    if (expected === undefined && collected >= 4) {
      const head = Buffer.concat(fragments);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return { status: 'invalid', reason: 'the first handshake message is not a ClientHello' };
      expected = head.readUIntBE(1, 3);
      if (expected > MAX_CLIENT_HELLO_LENGTH) return { status: 'invalid', reason: `the ClientHello is longer than ${MAX_CLIENT_HELLO_LENGTH} bytes` };
    }
  }
  return { status: 'complete', body: Buffer.concat(fragments).subarray(4, 4 + expected) };
}

/** Parses a ClientHello body (RFC 8446 section 4.1.2) down to its server_name and ALPN extensions. */
function parseClientHello(body: Buffer): ClientHelloResult {
  const reader = new Reader(body);
  try {
    reader.skip(2 + 32); // legacy_version and random
    reader.skip(reader.uint8()); // legacy_session_id
    reader.skip(reader.uint16()); // cipher_suites
    reader.skip(reader.uint8()); // legacy_compression_methods
    // Clients from before TLS extensions send none, so the message may end here.
    if (reader.remaining === 0) return { status: 'complete', alpnProtocols: [] };

    let serverName: string | undefined;
    let alpnProtocols: string[] = [];
    const extensions = new Reader(reader.bytes(reader.uint16()));
    while (extensions.remaining > 0) {
      const type = extensions.uint16();
      const data = extensions.bytes(extensions.uint16());
      if (type === EXTENSION_SERVER_NAME) serverName = readServerName(new Reader(data));
      else if (type === EXTENSION_ALPN) alpnProtocols = readAlpnProtocols(new Reader(data));
    }
    return serverName === undefined ? { status: 'complete', alpnProtocols } : { status: 'complete', serverName, alpnProtocols };
  } catch (error) {
    return { status: 'invalid', reason: (error as Error).message };
  }
}

function readServerName(extension: Reader): string | undefined {
  const list = new Reader(extension.bytes(extension.uint16()));
  while (list.remaining > 0) {
    const nameType = list.uint8();
    const name = list.bytes(list.uint16());
    // A host name is ASCII (RFC 6066 section 3), so other bytes give no usable name.
    if (nameType === NAME_TYPE_HOST_NAME && /^[\x21-\x7e]+$/.test(name.toString('latin1'))) return name.toString('latin1').toLowerCase();
  }
  return undefined;
}

function readAlpnProtocols(extension: Reader): string[] {
  const list = new Reader(extension.bytes(extension.uint16()));
  const protocols: string[] = [];
  while (list.remaining > 0) protocols.push(list.bytes(list.uint8()).toString('latin1'));
  return protocols;
}

/** Reads big-endian fields from a buffer, throwing when a length runs past its end. */
class Reader {
  #offset = 0;

  constructor(readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.#offset;
  }

  uint8(): number {
    this.#need(1);
    return this.buffer.readUInt8(this.#offset++);
  }

  uint16(): number {
    this.#need(2);
    const value = this.buffer.readUInt16BE(this.#offset);
    this.#offset += 2;
    return value;
  }

  bytes(length: number): Buffer {
    this.#need(length);
    const value = this.buffer.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  skip(length: number): void {
    this.bytes(length);
  }

  #need(length: number): void {
    if (this.remaining < length) throw new Error('a length in the ClientHello runs past its end');
  }
}
