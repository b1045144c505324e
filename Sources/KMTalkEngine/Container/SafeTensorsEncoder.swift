/// Writes safetensors files (the layout `SafeTensorsFile` reads): an 8-byte little-endian
/// header length, a JSON header padded with spaces to a multiple of 8 bytes, then the
/// tensors' bytes back to back in the order given, with no gaps.
struct SafeTensorsEncoder: Sendable {
    /// One tensor as stored: name, element type, shape and little-endian bytes.
    struct Entry: Sendable {
        var name: String
        var dtype: SafeTensorsDType
        var shape: [Int]
        var bytes: [UInt8]

        /// A tensor whose `bytes` already hold `shape`'s elements of `dtype`.
        init(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// Float32 elements.
        static func float32(_ name: String, shape: [Int], _ values: [Float]) -> Entry {
            var bytes = [UInt8](repeating: 0, count: values.count * 4)
            bytes.withUnsafeMutableBytes { raw in
                for (index, value) in values.enumerated() {
                    raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 4 * index, as: UInt32.self)
                }
            }
            return Entry(name: name, dtype: .f32, shape: shape, bytes: bytes)
        }

        /// Float16 elements, rounded to nearest from `values`.
        static func float16(_ name: String, shape: [Int], _ values: [Float]) -> Entry {
            var bytes = [UInt8](repeating: 0, count: values.count * 2)
            bytes.withUnsafeMutableBytes { raw in
                for (index, value) in values.enumerated() {
                    raw.storeBytes(of: Float16(value).bitPattern.littleEndian, toByteOffset: 2 * index, as: UInt16.self)
                }
            }
            return Entry(name: name, dtype: .f16, shape: shape, bytes: bytes)
        }

        /// Int32 elements.
        static func int32(_ name: String, shape: [Int], _ values: [Int32]) -> Entry {
            var bytes = [UInt8](repeating: 0, count: values.count * 4)
            bytes.withUnsafeMutableBytes { raw in
                for (index, value) in values.enumerated() {
                    raw.storeBytes(of: value.littleEndian, toByteOffset: 4 * index, as: Int32.self)
                }
            }
            return Entry(name: name, dtype: .i32, shape: shape, bytes: bytes)
        }
    }

    /// The tensors, in data order.
    var entries: [Entry]
    /// The `__metadata__` entries (omitted from the header when empty).
    var metadata: [(key: String, value: String)]

    /// A file with `entries` and `metadata`.
    init(entries: [Entry], metadata: [(key: String, value: String)]) {
        self.entries = entries
        self.metadata = metadata
    }

    /// The file's bytes. Errors (KMT_ERR_INVALID_ARGUMENT): an entry whose byte count does
    /// not match its shape and dtype, a negative dimension, or a repeated name.
    func encode() throws -> [UInt8] {
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.map { "\(JSONText.quoted($0.key)):\(JSONText.quoted($0.value))" }
            members.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var seen = Set<String>()
        var offset = 0
        for entry in entries {
            guard entry.name != "__metadata__", seen.insert(entry.name).inserted else {
                throw KMTError.invalidArgument("safetensors: tensor name '\(entry.name)' is reserved or repeated")
            }
            guard entry.shape.allSatisfy({ $0 >= 0 }) else {
                throw KMTError.invalidArgument("safetensors: tensor '\(entry.name)' has a negative dimension in \(entry.shape)")
            }
            let expected = entry.shape.reduce(1, *) * entry.dtype.byteWidth
            guard entry.bytes.count == expected else {
                throw KMTError.invalidArgument("safetensors: tensor '\(entry.name)' of shape \(entry.shape) \(entry.dtype.rawValue) needs \(expected) bytes, got \(entry.bytes.count)")
            }
            let shape = "[" + entry.shape.map(String.init).joined(separator: ",") + "]"
            members.append("\(JSONText.quoted(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + expected)]}")
            offset += expected
        }
        var header = Array(("{" + members.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes += $0 }
        bytes += header
        for entry in entries { bytes += entry.bytes }
        return bytes
    }
}
