
/// The element types the container accepts. Floating-point tensors are converted to
/// float32 on load, integer tensors to `Int`.
enum SafeTensorsDType: String, Sendable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case i64 = "I64"

    /// Bytes per element.
    var byteWidth: Int {
        switch self {
        case .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        }
    }

    /// Whether elements are integers (read into `SafeTensorsFile.integerTensors`).
    var isInteger: Bool {
        switch self {
        case .i32, .i64: return true
        case .f32, .f16, .bf16: return false
        }
    }
}

/// A dense row-major tensor of integers (an I32 or I64 tensor of a safetensors file).
struct IntegerTensor: Sendable, Equatable {
    /// The size of each dimension, outermost first.
    let shape: [Int]
    /// The elements in row-major order; `data.count == shape.reduce(1, *)`.
    let data: [Int]

    /// Wraps `data` with `shape`; the element counts must agree.
    init(shape: [Int], data: [Int]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) elements")
        self.shape = shape
        self.data = data
    }
}

/// A parsed and fully validated safetensors file: its metadata and its tensors, the
/// floating-point ones converted to float32 (`tensors`), the integer ones to `Int`
/// (`integerTensors`).
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON header mapping each
/// tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to
/// the data section after the header) plus an optional `__metadata__` object of strings,
/// then the data section. Validation rejects, with a message naming the tensor: a header
/// length beyond the file, malformed JSON, an unknown dtype, a shape that disagrees with
/// the byte length, offsets outside the data section or overlapping another tensor, and
/// duplicate names.
struct SafeTensorsFile: Sendable {
    /// The `__metadata__` entries (string to string), in file order.
    let metadata: [(key: String, value: String)]
    /// The floating-point (F32, F16, BF16) tensors by name.
    let tensors: [String: Tensor]
    /// The integer (I32, I64) tensors by name.
    let integerTensors: [String: IntegerTensor]
    /// Names of all tensors, floating-point and integer, in data-offset order.
    let names: [String]
    /// The dtype each tensor had in the file.
    let storedTypes: [String: SafeTensorsDType]
    /// Bytes of the data section that belong to no tensor (gaps between tensors and
    /// trailing bytes). Writers leave none; readers that demand an exact file check it.
    let unclaimedDataBytes: Int

    /// The largest JSON header accepted (100 MiB), against absurd length fields.
    static let maximumHeaderLength = 100 << 20

    /// Parses a whole safetensors file held in memory. `source` names it in errors.
    init(bytes: UnsafeRawBufferPointer, source: String) throws {
        func corrupt(_ detail: String) -> KMTError { .corruptModel("\(source): \(detail)") }
        guard bytes.count >= 8 else {
            throw corrupt("file is \(bytes.count) bytes, too short for the 8-byte header length")
        }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw corrupt("header length \(headerLength) goes beyond the end of the file (\(bytes.count) bytes)")
        }
        guard headerLength <= UInt64(Self.maximumHeaderLength) else {
            throw corrupt("header length \(headerLength) exceeds the \(Self.maximumHeaderLength)-byte limit")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = bytes.count - dataStart
        let header: JSONValue
        do {
            header = try JSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart]))
        } catch let error as JSONParseError {
            throw corrupt("malformed JSON header: \(error)")
        }
        guard let members = header.objectValue else {
            throw corrupt("JSON header is not an object")
        }

        var metadata: [(key: String, value: String)] = []
        var entries: [(name: String, dtype: SafeTensorsDType, shape: [Int], begin: Int, end: Int)] = []
        var seen = Set<String>()
        for (name, value) in members {
            guard seen.insert(name).inserted else {
                throw corrupt(name == "__metadata__" ? "duplicate __metadata__" : "duplicate tensor name '\(name)'")
            }
            if name == "__metadata__" {
                guard let pairs = value.objectValue else { throw corrupt("__metadata__ is not an object") }
                for (key, item) in pairs {
                    guard let text = item.stringValue else {
                        throw corrupt("__metadata__ value for '\(key)' is not a string")
                    }
                    metadata.append((key, text))
                }
                continue
            }
            guard value.objectValue != nil else { throw corrupt("tensor '\(name)': entry is not an object") }
            guard let dtypeName = value["dtype"]?.stringValue else {
                throw corrupt("tensor '\(name)': missing dtype")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw corrupt("tensor '\(name)': unsupported dtype '\(dtypeName)' (F32, F16, BF16, I32 and I64 are supported)")
            }
            guard let shapeValues = value["shape"]?.arrayValue else {
                throw corrupt("tensor '\(name)': missing shape")
            }
            var shape: [Int] = []
            var elementCount = 1
            for dimension in shapeValues {
                guard let size = dimension.integerValue, size >= 0 else {
                    throw corrupt("tensor '\(name)': shape entries must be non-negative integers")
                }
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: size)
                guard !overflow, product <= Int(Int32.max) else {
                    throw corrupt("tensor '\(name)': shape \(shapeValues.compactMap(\.integerValue)) is too large")
                }
                elementCount = product
                shape.append(size)
            }
            guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
                let begin = offsets[0].integerValue, let end = offsets[1].integerValue
            else {
                throw corrupt("tensor '\(name)': data_offsets must be two integers")
            }
            guard begin >= 0, begin <= end else {
                throw corrupt("tensor '\(name)': data_offsets [\(begin), \(end)] are not an ascending range")
            }
            guard end <= dataSize else {
                throw corrupt("tensor '\(name)': data_offsets [\(begin), \(end)] lie outside the \(dataSize)-byte data section")
            }
            let expectedBytes = elementCount * dtype.byteWidth
            guard end - begin == expectedBytes else {
                throw corrupt("tensor '\(name)': shape \(shape) of \(dtypeName) needs \(expectedBytes) bytes but data_offsets span \(end - begin)")
            }
            entries.append((name, dtype, shape, begin, end))
        }

        entries.sort { $0.begin != $1.begin ? $0.begin < $1.begin : $0.end < $1.end }
        for index in entries.indices.dropFirst() {
            let previous = entries[index - 1]
            let current = entries[index]
            if current.begin < previous.end {
                throw corrupt("tensor '\(current.name)' overlaps tensor '\(previous.name)' in the data section")
            }
        }

        var tensors: [String: Tensor] = [:]
        var integerTensors: [String: IntegerTensor] = [:]
        var storedTypes: [String: SafeTensorsDType] = [:]
        var claimedBytes = 0
        // The decoded tensors are Swift arrays, which trap when they cannot be allocated:
        // check that their total can be had first.
        let decodedBytes = entries.reduce(0) { total, entry in
            total + (entry.end - entry.begin) / entry.dtype.byteWidth * (entry.dtype.isInteger ? 8 : 4)
        }
        try FileBytes.probeAllocation(decodedBytes, purpose: "\(source): \(entries.count) tensors")
        for entry in entries {
            let raw = UnsafeRawBufferPointer(rebasing: bytes[(dataStart + entry.begin)..<(dataStart + entry.end)])
            if entry.dtype.isInteger {
                integerTensors[entry.name] = IntegerTensor(shape: entry.shape, data: Self.decodeIntegers(raw, as: entry.dtype))
            } else {
                tensors[entry.name] = Tensor(shape: entry.shape, data: Self.decode(raw, as: entry.dtype))
            }
            storedTypes[entry.name] = entry.dtype
            claimedBytes += entry.end - entry.begin
        }
        self.metadata = metadata
        self.tensors = tensors
        self.integerTensors = integerTensors
        self.names = entries.map(\.name)
        self.storedTypes = storedTypes
        self.unclaimedDataBytes = dataSize - claimedBytes
    }

    /// Parses a file held in a byte array.
    init(bytes: [UInt8], source: String) throws {
        self = try bytes.withUnsafeBytes { try SafeTensorsFile(bytes: $0, source: source) }
    }

    /// Reads and parses the file at `path`. The header length is checked against the
    /// file's size before the file is read, so a file that is not safetensors (say 2 GiB of
    /// zeros) is refused at once; a regular file only, at most `FileBytes.sizeLimit`.
    /// `kind` ("model" or "rig") words the errors for a file of another kind.
    init(path: String, kind: String = "model") throws {
        let file = try FileBytes.OpenFile(path)
        try FileBytes.checkSize(file.size, limit: FileBytes.sizeLimit, path: path)
        let prefix = try file.prefix(64)
        try Self.checkKind(prefix, source: path, kind: kind)
        try Self.checkPrefix(prefix, fileSize: file.size, source: path, kind: kind)
        self = try file.withContents(limit: FileBytes.sizeLimit) { try SafeTensorsFile(bytes: $0, source: path) }
    }

    /// Checks the first bytes of a file of `fileSize` bytes: an 8-byte header length that
    /// fits the file and the limit, then a JSON object.
    static func checkPrefix(_ prefix: [UInt8], fileSize: Int, source: String, kind: String = "model") throws {
        func corrupt(_ detail: String) -> KMTError { .corruptModel("\(source): \(detail)") }
        guard fileSize >= 8, prefix.count >= 8 else {
            throw corrupt("file is \(fileSize) bytes, too short for the 8-byte header length")
        }
        let headerLength = prefix[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(fileSize - 8) else {
            throw corrupt("not a KMTalk \(kind) file (safetensors): its header length \(headerLength) goes beyond the end of the file (\(fileSize) bytes)")
        }
        guard headerLength <= UInt64(Self.maximumHeaderLength) else {
            throw corrupt("header length \(headerLength) exceeds the \(Self.maximumHeaderLength)-byte limit")
        }
        guard headerLength > 0, prefix.count > 8, prefix[8] == UInt8(ascii: "{") else {
            throw corrupt("not a KMTalk \(kind) file (safetensors): the header is not a JSON object")
        }
    }

    /// Throws a clear error for files of another kind the loaders are often given by
    /// mistake: a glTF/GLB (a mesh to import as a rig) or a file that is not safetensors.
    /// `kind` is "model" or "rig".
    static func checkKind(_ prefix: [UInt8], source: String, kind: String) throws {
        let head = String(decoding: prefix.prefix(64).filter { $0 >= 0x20 && $0 < 0x7F }, as: UTF8.self)
        let isGLB = prefix.starts(with: Array("glTF".utf8))
        let isGLTF = prefix.first == UInt8(ascii: "{") && head.contains("\"asset\"")
        if isGLB || isGLTF {
            throw KMTError(
                .unsupportedFormat,
                "\(source): a glTF \(isGLB ? "binary (GLB)" : "file"), not a KMTalk \(kind) file; "
                    + (kind == "rig" ? "make a rig from it with `kmtalk rig import-gltf` (kmt_rig_import_file)" : "a model is a .safetensors file such as models/kmtalk-base.safetensors"))
        }
    }

    /// The metadata value under `key`, or nil.
    func metadataValue(_ key: String) -> String? {
        metadata.first { $0.key == key }?.value
    }

    /// Total number of scalars across all tensors, floating-point and integer.
    var parameterCount: Int {
        tensors.values.reduce(0) { $0 + $1.count } + integerTensors.values.reduce(0) { $0 + $1.data.count }
    }

    /// The shape of tensor `name` whatever its dtype, or nil when there is no such tensor.
    func shape(of name: String) -> [Int]? {
        tensors[name]?.shape ?? integerTensors[name]?.shape
    }

    /// Converts little-endian stored integers (I32 or I64) to `Int`; floating-point
    /// dtypes give an empty array (the caller picks `decode` for those).
    static func decodeIntegers(_ raw: UnsafeRawBufferPointer, as dtype: SafeTensorsDType) -> [Int] {
        let count = raw.count / dtype.byteWidth
        switch dtype {
        case .i64:
            return (0..<count).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
        case .i32:
            return (0..<count).map { Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        case .f32, .f16, .bf16:
            return []
        }
    }

    /// Converts little-endian stored elements to float32 (integers by value conversion;
    /// the reader keeps those in `integerTensors` instead).
    static func decode(_ raw: UnsafeRawBufferPointer, as dtype: SafeTensorsDType) -> [Float] {
        let count = raw.count / dtype.byteWidth
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch dtype {
            case .f32:
                for i in 0..<count {
                    out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            case .f16:
                for i in 0..<count {
                    let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = Float(Float16(bitPattern: bits))
                }
            case .bf16:
                for i in 0..<count {
                    let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            case .i32:
                for i in 0..<count {
                    out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                }
            case .i64:
                for i in 0..<count {
                    out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                }
            }
            initialized = count
        }
    }
}
