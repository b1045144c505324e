
/// A parsed glTF 2.0 asset: its JSON and its buffers resolved to bytes (the GLB BIN chunk,
/// base64 data URIs, or files beside a `.gltf`). Reads accessors as float or index arrays
/// with every offset checked against its buffer view and buffer; errors are
/// KMT_ERR_CORRUPT_RIG naming the accessor.
struct GLTFDocument {
    /// The top-level JSON object.
    let json: JSONValue
    /// The bytes of each `buffers[i]`.
    let buffers: [[UInt8]]
    /// Names the file in errors.
    let source: String

    /// Geometry extensions this importer decodes (or that do not change geometry); any
    /// other entry of `extensionsRequired` is refused.
    static let supportedRequiredExtensions: Set<String> = [
        "KHR_mesh_quantization", "KHR_texture_transform", "KHR_materials_unlit",
        "KHR_materials_emissive_strength", "KHR_materials_ior", "KHR_materials_specular",
        "KHR_materials_transmission", "KHR_materials_volume", "KHR_materials_clearcoat",
        "KHR_materials_sheen", "KHR_texture_basisu", "EXT_texture_webp",
    ]

    /// Parses a `.glb` or `.gltf` held in `bytes`. `folder` is where a `.gltf`'s relative
    /// buffer URIs are looked up, and the only place they may lead (nil: refused).
    init(bytes: [UInt8], source: String, folder: AssetFolder?) throws {
        self.source = source
        func corrupt(_ detail: String) -> KMTError { .corruptRig("\(source): \(detail)") }
        let jsonBytes: ArraySlice<UInt8>
        var binary: ArraySlice<UInt8>?
        if GLBContainer.isGLB(bytes) {
            let container = try GLBContainer(bytes, source: source)
            jsonBytes = container.json
            binary = container.binary
        } else {
            let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
            guard first == UInt8(ascii: "{") else {
                throw KMTError(.unsupportedFormat, "\(source): neither a GLB (magic 'glTF') nor glTF JSON")
            }
            jsonBytes = bytes[...]
        }
        var trimmed = jsonBytes
        if trimmed.starts(with: [0xEF, 0xBB, 0xBF]) { trimmed = trimmed.dropFirst(3) }
        while let last = trimmed.last, last == 0x20 || last == 0 { trimmed = trimmed.dropLast() }
        let json: JSONValue
        do { json = try JSONParser.parse(trimmed) } catch {
            throw corrupt("malformed glTF JSON: \(error)")
        }
        guard json.objectValue != nil else { throw corrupt("glTF JSON is not an object") }
        guard let version = json["asset"]?["version"]?.stringValue else {
            throw corrupt("missing asset.version (not a glTF 2.0 file)")
        }
        guard version.hasPrefix("2.") else {
            throw KMTError(.unsupportedFormat, "\(source): glTF version \(version) (only 2.x is read)")
        }
        for required in json["extensionsRequired"]?.arrayValue ?? [] {
            if let name = required.stringValue, !Self.supportedRequiredExtensions.contains(name) {
                throw KMTError(.unsupportedFormat, "\(source): requires extension \(name), which the importer does not decode (export without it)")
            }
        }

        var buffers: [[UInt8]] = []
        for (index, buffer) in (json["buffers"]?.arrayValue ?? []).enumerated() {
            guard let length = buffer["byteLength"]?.integerValue, length >= 0 else {
                throw corrupt("buffers[\(index)] has no valid byteLength")
            }
            var data: [UInt8]
            if let uri = buffer["uri"]?.stringValue {
                data = try Self.resolve(uri: uri, index: index, folder: folder, source: source)
            } else {
                guard index == 0, let binary else {
                    throw corrupt("buffers[\(index)] has no uri and \(index == 0 ? "the file has no BIN chunk" : "only buffers[0] may use the BIN chunk")")
                }
                data = Array(binary)
            }
            guard data.count >= length else {
                throw corrupt("buffers[\(index)] declares \(length) bytes but holds \(data.count) (truncated)")
            }
            data.removeLast(data.count - length)
            buffers.append(data)
        }
        self.json = json
        self.buffers = buffers
    }

    /// The bytes behind a buffer `uri`: a base64 data URI, or a file relative to the glTF.
    private static func resolve(uri: String, index: Int, folder: AssetFolder?, source: String) throws -> [UInt8] {
        if uri.hasPrefix("data:") {
            guard let comma = uri.utf8.firstIndex(of: UInt8(ascii: ",")),
                String(decoding: uri.utf8[..<comma], as: UTF8.self).hasSuffix(";base64")
            else {
                throw KMTError.corruptRig("\(source): buffers[\(index)] data URI is not base64")
            }
            guard let bytes = Base64.decode(uri.utf8[uri.utf8.index(after: comma)...]) else {
                throw KMTError.corruptRig("\(source): buffers[\(index)] data URI holds invalid base64")
            }
            return bytes
        }
        guard !uri.contains("://") else {
            throw KMTError(.unsupportedFormat, "\(source): buffers[\(index)] refers to \(uri); only data URIs and local files are read")
        }
        guard let folder else {
            throw KMTError(.unsupportedFormat, "\(source): buffers[\(index)] refers to the external file \(uri), which cannot be resolved here")
        }
        let path = try folder.resolve(uri.hasPrefix("/") ? uri : percentDecoded(uri), source: source, what: "buffers[\(index)]")
        return try FileBytes.read(path)
    }

    /// `text` with `%XX` escapes decoded (relative URIs of buffer files).
    static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - Accessors

    /// Components per element of an accessor `type`.
    static func componentCount(_ type: String) -> Int? {
        ["SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4][type]
    }

    /// Bytes per component of a `componentType`.
    static func componentSize(_ componentType: Int) -> Int? {
        [5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4][componentType]
    }

    /// A checked view of `count` elements of `width` bytes, `stride` apart, starting at
    /// `offset` in buffer `buffer`.
    private struct Span {
        let buffer: Int
        let offset: Int
        let stride: Int
    }

    /// Resolves bufferView `viewIndex` plus `byteOffset` for `count` elements of
    /// `elementSize` bytes; `what` names the accessor in errors.
    private func span(view viewIndex: Int, byteOffset: Int, count: Int, elementSize: Int, allowStride: Bool, what: String) throws -> Span {
        func corrupt(_ detail: String) -> KMTError { .corruptRig("\(source): \(what): \(detail)") }
        let views = json["bufferViews"]?.arrayValue ?? []
        guard viewIndex >= 0, viewIndex < views.count else { throw corrupt("bufferView \(viewIndex) does not exist (\(views.count) buffer views)") }
        let view = views[viewIndex]
        guard let bufferIndex = view["buffer"]?.integerValue, bufferIndex >= 0, bufferIndex < buffers.count else {
            throw corrupt("bufferView \(viewIndex) refers to a missing buffer")
        }
        let viewOffset = view["byteOffset"]?.integerValue ?? 0
        guard let viewLength = view["byteLength"]?.integerValue, viewOffset >= 0, viewLength >= 0,
            viewOffset <= buffers[bufferIndex].count, viewLength <= buffers[bufferIndex].count - viewOffset
        else {
            throw corrupt("bufferView \(viewIndex) lies outside buffer \(bufferIndex) (\(buffers[bufferIndex].count) bytes)")
        }
        var stride = elementSize
        if allowStride, let declared = view["byteStride"]?.integerValue {
            guard declared >= elementSize, declared <= 252 else {
                throw corrupt("bufferView \(viewIndex) byteStride \(declared) is smaller than the \(elementSize)-byte element or above 252")
            }
            stride = declared
        }
        guard byteOffset >= 0, count >= 0 else { throw corrupt("negative byteOffset or count") }
        if count > 0 {
            let (span, overflow) = stride.multipliedReportingOverflow(by: count - 1)
            guard byteOffset <= viewLength, !overflow, span <= viewLength - byteOffset - elementSize else {
                throw corrupt("\(count) elements of \(elementSize) bytes (stride \(stride)) from byte \(byteOffset) run past bufferView \(viewIndex)'s \(viewLength) bytes (accessor out of buffer range)")
            }
        }
        return Span(buffer: bufferIndex, offset: viewOffset + byteOffset, stride: stride)
    }

    /// Component `index` of type `componentType` at `offset` in `bytes`, as a float;
    /// normalised integers map to [0, 1] or [-1, 1] as the specification says.
    private static func component(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ componentType: Int, normalized: Bool) -> Float {
        switch componentType {
        case 5126: return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        case 5120:
            let value = Float(Int8(bitPattern: bytes[offset]))
            return normalized ? max(value / 127, -1) : value
        case 5121:
            let value = Float(bytes[offset])
            return normalized ? value / 255 : value
        case 5122:
            let value = Float(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
            return normalized ? max(value / 32767, -1) : value
        case 5123:
            let value = Float(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            return normalized ? value / 65535 : value
        default:
            let value = Double(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            return Float(normalized ? value / 4_294_967_295 : value)
        }
    }

    /// Unsigned integer component at `offset` (index data: 5121, 5123 or 5125).
    private static func index(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ componentType: Int) -> Int {
        switch componentType {
        case 5121: return Int(bytes[offset])
        case 5123: return Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        default: return Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        }
    }

    /// The accessor object `index`, or an error naming `what`.
    private func accessorObject(_ index: Int, what: String) throws -> JSONValue {
        let accessors = json["accessors"]?.arrayValue ?? []
        guard index >= 0, index < accessors.count else {
            throw KMTError.corruptRig("\(source): \(what) refers to accessor \(index), which does not exist (\(accessors.count) accessors)")
        }
        return accessors[index]
    }

    /// The most elements an accessor without a bufferView (zeros plus sparse substitutes)
    /// may claim, so a malformed count cannot demand gigabytes.
    static let maximumImplicitCount = 1 << 24

    /// Reads accessor `index` as floats: its element count and `count * components` values.
    /// `types` lists the accepted accessor types (`VEC3`, ...); sparse accessors are applied.
    func floats(accessor index: Int, types: [String], what: String) throws -> (count: Int, components: Int, values: [Float]) {
        let accessor = try accessorObject(index, what: what)
        let label = "\(what) (accessor \(index))"
        func corrupt(_ detail: String) -> KMTError { .corruptRig("\(source): \(label): \(detail)") }
        guard let type = accessor["type"]?.stringValue, types.contains(type), let components = Self.componentCount(type) else {
            throw corrupt("type \(accessor["type"]?.stringValue ?? "missing"), expected \(types.joined(separator: " or "))")
        }
        guard let componentType = accessor["componentType"]?.integerValue, let size = Self.componentSize(componentType) else {
            throw corrupt("unknown componentType \(accessor["componentType"]?.integerValue.map(String.init) ?? "missing")")
        }
        guard let count = accessor["count"]?.integerValue, count >= 1, count <= Int(Int32.max) / 4 else {
            throw corrupt("count missing or out of range")
        }
        let normalized = accessor["normalized"] == .bool(true)
        var dense: Span?
        if let viewIndex = accessor["bufferView"]?.integerValue {
            dense = try span(view: viewIndex, byteOffset: accessor["byteOffset"]?.integerValue ?? 0, count: count,
                             elementSize: components * size, allowStride: true, what: label)
        } else if count > Self.maximumImplicitCount {
            throw corrupt("\(count) elements without a bufferView exceed the \(Self.maximumImplicitCount) allowed")
        }
        var values = [Float](repeating: 0, count: count * components)
        if let span = dense {
            buffers[span.buffer].withUnsafeBytes { bytes in
                for element in 0..<count {
                    let base = span.offset + element * span.stride
                    for c in 0..<components {
                        values[element * components + c] = Self.component(bytes, base + c * size, componentType, normalized: normalized)
                    }
                }
            }
        }
        if let sparse = accessor["sparse"] {
            guard let sparseCount = sparse["count"]?.integerValue, sparseCount >= 1, sparseCount <= count else {
                throw corrupt("sparse.count missing or outside 1...\(count)")
            }
            guard let indexView = sparse["indices"]?["bufferView"]?.integerValue,
                let indexType = sparse["indices"]?["componentType"]?.integerValue, [5121, 5123, 5125].contains(indexType),
                let valueView = sparse["values"]?["bufferView"]?.integerValue
            else {
                throw corrupt("sparse.indices / sparse.values incomplete (bufferView and an unsigned componentType needed)")
            }
            let indexSpan = try span(view: indexView, byteOffset: sparse["indices"]?["byteOffset"]?.integerValue ?? 0, count: sparseCount,
                                     elementSize: Self.componentSize(indexType)!, allowStride: false, what: label + " sparse indices")
            let valueSpan = try span(view: valueView, byteOffset: sparse["values"]?["byteOffset"]?.integerValue ?? 0, count: sparseCount,
                                     elementSize: components * size, allowStride: false, what: label + " sparse values")
            var targets: [Int] = []
            buffers[indexSpan.buffer].withUnsafeBytes { bytes in
                targets = (0..<sparseCount).map { Self.index(bytes, indexSpan.offset + $0 * indexSpan.stride, indexType) }
            }
            for (position, target) in targets.enumerated() {
                guard target < count else { throw corrupt("sparse index \(target) is outside the accessor's \(count) elements") }
                guard position == 0 || target > targets[position - 1] else { throw corrupt("sparse indices are not strictly increasing") }
            }
            buffers[valueSpan.buffer].withUnsafeBytes { bytes in
                for (position, target) in targets.enumerated() {
                    let base = valueSpan.offset + position * valueSpan.stride
                    for c in 0..<components {
                        values[target * components + c] = Self.component(bytes, base + c * size, componentType, normalized: normalized)
                    }
                }
            }
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw corrupt("non-finite value at element \(bad / components)")
        }
        return (count, components, values)
    }

    /// Reads an index accessor (SCALAR, unsigned byte / short / int, not normalised).
    func indices(accessor index: Int, what: String) throws -> [Int] {
        let accessor = try accessorObject(index, what: what)
        let label = "\(what) (accessor \(index))"
        func corrupt(_ detail: String) -> KMTError { .corruptRig("\(source): \(label): \(detail)") }
        guard accessor["type"]?.stringValue == "SCALAR" else { throw corrupt("index accessor type must be SCALAR") }
        guard let componentType = accessor["componentType"]?.integerValue, [5121, 5123, 5125].contains(componentType) else {
            throw corrupt("index componentType must be UNSIGNED_BYTE, UNSIGNED_SHORT or UNSIGNED_INT")
        }
        guard accessor["sparse"] == nil else { throw corrupt("sparse index accessors are not supported") }
        guard let count = accessor["count"]?.integerValue, count >= 0, count <= Int(Int32.max) else {
            throw corrupt("count missing or out of range")
        }
        guard let viewIndex = accessor["bufferView"]?.integerValue else { throw corrupt("index accessor without bufferView") }
        let size = Self.componentSize(componentType)!
        let span = try span(view: viewIndex, byteOffset: accessor["byteOffset"]?.integerValue ?? 0, count: count,
                            elementSize: size, allowStride: false, what: label)
        return buffers[span.buffer].withUnsafeBytes { bytes in
            (0..<count).map { Self.index(bytes, span.offset + $0 * size, componentType) }
        }
    }
}
