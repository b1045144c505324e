
/// The chunks of a binary glTF (GLB) file: a 12-byte header (magic `glTF`, version 2, total
/// length), a JSON chunk, then an optional BIN chunk; chunks of other types are skipped as
/// the specification asks. Every length is checked against the file.
struct GLBContainer {
    /// `glTF` read as a little-endian UInt32.
    static let magic: UInt32 = 0x4654_6C67
    static let jsonChunk: UInt32 = 0x4E4F_534A
    static let binaryChunk: UInt32 = 0x004E_4942

    /// The JSON chunk's bytes.
    let json: ArraySlice<UInt8>
    /// The BIN chunk's bytes, when there is one.
    let binary: ArraySlice<UInt8>?

    /// Whether `bytes` start with the GLB magic.
    static func isGLB(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x67 && bytes[1] == 0x6C && bytes[2] == 0x54 && bytes[3] == 0x46
    }

    /// Splits `bytes` into chunks. `source` names the file in errors (KMT_ERR_CORRUPT_RIG
    /// for a truncated or inconsistent file, KMT_ERR_UNSUPPORTED_FORMAT for another version).
    init(_ bytes: [UInt8], source: String) throws {
        func corrupt(_ detail: String) -> KMTError { .corruptRig("\(source): GLB \(detail)") }
        func word(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        guard bytes.count >= 12 else { throw corrupt("file is \(bytes.count) bytes, shorter than the 12-byte header") }
        guard word(0) == Self.magic else { throw corrupt("magic is not 'glTF'") }
        let version = word(4)
        guard version == 2 else {
            throw KMTError(.unsupportedFormat, "\(source): GLB version \(version) (only glTF 2.0 is read)")
        }
        let declared = Int(word(8))
        guard declared <= bytes.count else {
            throw corrupt("header declares \(declared) bytes but the file has \(bytes.count) (truncated)")
        }
        var json: ArraySlice<UInt8>?
        var binary: ArraySlice<UInt8>?
        var offset = 12
        var index = 0
        while offset < declared {
            guard offset + 8 <= declared else {
                throw corrupt("chunk \(index) header at byte \(offset) runs past the end (\(declared) bytes)")
            }
            let length = Int(word(offset))
            let type = word(offset + 4)
            let start = offset + 8
            guard length <= declared - start else {
                throw corrupt("chunk \(index) of \(length) bytes at byte \(start) runs past the end (\(declared) bytes; truncated?)")
            }
            let body = bytes[start..<(start + length)]
            if index == 0 {
                guard type == Self.jsonChunk else {
                    throw corrupt("first chunk has type 0x\(String(type, radix: 16)), expected JSON (0x4e4f534a)")
                }
                json = body
            } else if type == Self.jsonChunk {
                throw corrupt("a second JSON chunk (chunk \(index))")
            } else if type == Self.binaryChunk {
                guard index == 1 else { throw corrupt("BIN chunk at position \(index), it must directly follow the JSON chunk") }
                binary = body
            }
            offset = start + length
            index += 1
        }
        guard let json else { throw corrupt("has no chunks") }
        self.json = json
        self.binary = binary
    }
}
