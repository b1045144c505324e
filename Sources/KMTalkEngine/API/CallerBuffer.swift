import CKMTalk

/// Copies `elements` into a caller's output buffer of `capacity` elements, the way every
/// `kmt_*_read_*` style function does: `*outCount` (may be NULL) always receives the
/// number of elements needed; a smaller capacity is KMT_ERR_BUFFER_TOO_SMALL (so a caller
/// can ask with NULL, 0 first); a NULL buffer with room claimed is
/// KMT_ERR_INVALID_ARGUMENT. `capacity` is a size_t arriving as Int: negative values are
/// sizes above Int.max, more than enough.
func copyToCallerBuffer<Element>(
    _ elements: [Element], _ buffer: UnsafeMutablePointer<Element>?, capacity: Int,
    outCount: UnsafeMutablePointer<Int>?, unit: String
) throws {
    outCount?.pointee = elements.count
    guard capacity < 0 || capacity >= elements.count else {
        throw KMTError(KMT_ERR_BUFFER_TOO_SMALL, "buffer holds \(capacity) \(unit), \(elements.count) needed")
    }
    // A NULL buffer claiming room is refused even when nothing is to be written, as by
    // every other reader: the same call must not succeed or fail by the rig's content.
    guard buffer != nil || capacity == 0 else {
        throw KMTError.invalidArgument("buffer is NULL but buffer_length is \(UInt(bitPattern: capacity))")
    }
    guard !elements.isEmpty, let buffer else { return }
    elements.withUnsafeBufferPointer { source in
        if let start = source.baseAddress { buffer.update(from: start, count: source.count) }
    }
}

/// Copies `text` and a terminating NUL into a caller's `char` buffer of `capacity` bytes,
/// as `kmt_model_metadata` does: `*outLength` (may be NULL) receives the length without the
/// NUL; a buffer without room for text and NUL is KMT_ERR_BUFFER_TOO_SMALL.
func copyToCallerBuffer(
    _ text: String, _ buffer: UnsafeMutablePointer<CChar>?, capacity: Int,
    outLength: UnsafeMutablePointer<Int>?, what: String
) throws {
    let bytes = Array(text.utf8)
    outLength?.pointee = bytes.count
    guard capacity < 0 || capacity > bytes.count else {
        throw KMTError(KMT_ERR_BUFFER_TOO_SMALL, "\(what) needs \(bytes.count + 1) bytes, buffer has \(capacity)")
    }
    guard let buffer else { throw KMTError.invalidArgument("buffer is NULL but buffer_size is \(UInt(bitPattern: capacity))") }
    bytes.withUnsafeBufferPointer { source in
        if let start = source.baseAddress {
            UnsafeMutableRawPointer(buffer).copyMemory(from: UnsafeRawPointer(start), byteCount: source.count)
        }
    }
    buffer[bytes.count] = 0
}
