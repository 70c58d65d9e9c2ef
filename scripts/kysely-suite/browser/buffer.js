// Node's global Buffer, for the few test lines that use it. In a browser, binary data is a
// Uint8Array (Node's Buffer is a subclass of it), and that is what the dialect returns for blobs.
export const Buffer = Object.freeze({
  isBuffer: (value) => value instanceof Uint8Array,
  allocUnsafe: (size) => new Uint8Array(size),
})
