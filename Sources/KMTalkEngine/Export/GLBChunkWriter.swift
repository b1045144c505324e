/// Writes the GLB container of glTF 2.0 (binary glTF): a 12-byte header (magic `glTF`,
/// version 2, total length), a JSON chunk padded with spaces to a multiple of 4 bytes,
/// then a BIN chunk padded with zeros. Every length is little-endian uint32.
enum GLBChunkWriter {
    /// `glTF` as a little-endian uint32.
    static let magic: UInt32 = 0x4654_6C67
    /// The JSON chunk's type, `JSON`.
    static let jsonChunk: UInt32 = 0x4E4F_534A
    /// The BIN chunk's type, `BIN\0`.
    static let binChunk: UInt32 = 0x004E_4942

    /// The GLB bytes of `json` and `binary`. Errors: KMT_ERR_INVALID_ARGUMENT when the
    /// whole exceeds the 4 GiB that uint32 lengths can state.
    static func encode(json: String, binary: [UInt8]) throws -> [UInt8] {
        let jsonBytes = Array(json.utf8)
        let jsonLength = (jsonBytes.count + 3) / 4 * 4
        let binLength = (binary.count + 3) / 4 * 4
        let total = 12 + 8 + jsonLength + (binary.isEmpty ? 0 : 8 + binLength)
        guard total <= Int(UInt32.max) else {
            throw KMTError.invalidArgument("the GLB would be \(total) bytes, more than the format's 4 GiB limit (use fewer frames or a smaller rig)")
        }
        var out = ByteBuffer(capacity: total)
        out.append(uint32: magic)
        out.append(uint32: 2)
        out.append(uint32: UInt32(total))
        out.append(uint32: UInt32(jsonLength))
        out.append(uint32: jsonChunk)
        out.append(bytes: jsonBytes)
        out.padToMultiple(of: 4, with: 0x20)
        if !binary.isEmpty {
            out.append(uint32: UInt32(binLength))
            out.append(uint32: binChunk)
            out.append(bytes: binary)
            out.padToMultiple(of: 4, with: 0)
        }
        return out.bytes
    }
}
