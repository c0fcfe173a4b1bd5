// The safetensors format (what safetensors.torch.save_file writes and load_file reads): an 8-byte
// little-endian header length, a JSON header { name: { dtype, shape, data_offsets: [begin, end] } }
// padded with spaces to a multiple of 8, then the raw little-endian tensor bytes.
import { shown } from '../shapes.js';

export interface SafeTensor {
  dtype: 'F32' | 'I64';
  shape: readonly number[];
  /** Little-endian bytes of the values. */
  bytes: Uint8Array;
}

export function encodeSafetensors(tensors: ReadonlyMap<string, SafeTensor>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

export interface DecodedTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

export function decodeSafetensors(bytes: Uint8Array): Map<string, DecodedTensor> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`loadWeights: expected a Uint8Array of safetensors bytes; got ${typeof bytes}`);
  const bad = (why: string) => new Error(`loadWeights: not a safetensors file: ${why}`);
  if (bytes.length < 8) throw bad(`${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw bad(`header length ${headerLength} exceeds the file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw bad('the header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw bad(`the header is ${shown(header)}, not an object`);
  const data = bytes.subarray(8 + headerLength);
  const out = new Map<string, DecodedTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (entry === null || typeof entry !== 'object') throw bad(`tensor ${name} is ${shown(entry)}, not { dtype, shape, data_offsets }`);
    const { dtype, shape, data_offsets: offsets } = entry as Partial<Record<'dtype' | 'shape' | 'data_offsets', unknown>>;
    if (typeof dtype !== 'string') throw bad(`tensor ${name} has dtype ${shown(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor ${name} has shape ${shown(shape)}`);
    const [begin, end] = Array.isArray(offsets) ? offsets : [];
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && begin <= end && end <= data.length)) {
      throw bad(`tensor ${name} has data_offsets ${shown(offsets)} outside the data`);
    }
    out.set(name, { dtype, shape, bytes: data.subarray(begin, end) });
  }
  return out;
}
