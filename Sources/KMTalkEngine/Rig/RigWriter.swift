
/// How `RigWriter` stores the deltas.
enum RigDeltaPrecision: Sendable {
    /// Float32, exact.
    case float32
    /// Float16, half the size; refused when rounding moves any delta by
    /// `RigWriter.halfTolerance` metres or more (or a delta overflows float16).
    case float16
}

/// A rig file's bytes and what storing it cost in precision.
struct EncodedRig: Sendable {
    /// The kmtalk-rig safetensors file.
    let bytes: [UInt8]
    /// The largest |stored - given| delta, in the rig's units (0 for float32).
    let deltaRoundingError: Float
}

/// Writes `RigContent` as a kmtalk-rig safetensors file (docs/rig.md). The result is
/// loaded back with `Rig` before it is returned, so every file it gives is one the loader
/// accepts.
enum RigWriter {
    /// The largest rounding error float16 deltas may carry, in metres (0.1 mm), converted
    /// to the rig's units (1e-4 m, 0.01 cm, 0.1 mm).
    static let halfTolerance: Double = 1e-4

    /// The `generator` value written when the content names none.
    static let generator = "kmtalk"

    /// Metres per unit of `units`.
    static func metres(per units: RigUnits) -> Double {
        switch units {
        case .meters: return 1
        case .centimeters: return 0.01
        case .millimeters: return 0.001
        }
    }

    /// Validates `content` and encodes it. Errors: KMT_ERR_INVALID_ARGUMENT for content
    /// that breaks a rig rule (counts, index range, non-finite values, names) or float16
    /// deltas beyond `halfTolerance`; KMT_ERR_CORRUPT_RIG should the written file fail to
    /// load (a bug).
    static func encode(_ content: RigContent, deltas precision: RigDeltaPrecision = .float32) throws -> EncodedRig {
        try validate(content)
        let vertexCount = content.vertexCount
        var rounding: Float = 0
        let deltaShape = [content.shapeCount, vertexCount, 3]
        let deltaEntry: SafeTensorsEncoder.Entry
        switch precision {
        case .float32:
            deltaEntry = .float32("deltas", shape: deltaShape, content.deltas)
        case .float16:
            for value in content.deltas {
                let stored = Float(Float16(value))
                guard stored.isFinite else {
                    throw KMTError.invalidArgument("a delta of \(value) \(content.units.rawValue) overflows float16; store the deltas as float32")
                }
                rounding = max(rounding, abs(stored - value))
            }
            let tolerance = Float(halfTolerance / metres(per: content.units))
            guard rounding < tolerance else {
                throw KMTError.invalidArgument("float16 deltas would be off by up to \(rounding) \(content.units.rawValue), beyond the \(tolerance) \(content.units.rawValue) (0.1 mm) allowed; store them as float32")
            }
            deltaEntry = .float16("deltas", shape: deltaShape, content.deltas)
        }
        var entries: [SafeTensorsEncoder.Entry] = [
            .float32("vertices", shape: [vertexCount, 3], content.vertices),
            .int32("faces", shape: [content.faceCount, 3], content.faces),
            deltaEntry,
        ]
        if let uvs = content.uvs { entries.append(.float32("uvs", shape: [vertexCount, 2], uvs)) }
        if let normals = content.normals { entries.append(.float32("normals", shape: [vertexCount, 3], normals)) }

        let names = JSONText.stringArray(content.shapeNames)
        var metadata: [(key: String, value: String)] = [
            ("format", RigMetadata.format), ("format_version", RigMetadata.formatVersion),
            ("channels", names), ("units", content.units.rawValue),
            ("up_axis", RigMetadata.upAxis), ("forward_axis", RigMetadata.forwardAxis),
        ]
        let reserved = Set(metadata.map(\.key))
        var seen = Set<String>()
        for (key, value) in content.extraMetadata where !reserved.contains(key) && seen.insert(key).inserted {
            metadata.append((key, value))
        }
        if !seen.contains("generator") { metadata.append(("generator", generator)) }

        let bytes = try SafeTensorsEncoder(entries: entries, metadata: metadata).encode()
        _ = try Rig(bytes: bytes, source: "written rig")
        return EncodedRig(bytes: bytes, deltaRoundingError: rounding)
    }

    /// Checks the rig rules on `content` before encoding.
    static func validate(_ content: RigContent) throws {
        func invalid(_ detail: String) -> KMTError { .invalidArgument("rig: \(detail)") }
        guard content.vertices.count % 3 == 0 else { throw invalid("\(content.vertices.count) vertex floats is not a multiple of 3") }
        let vertexCount = content.vertexCount
        guard vertexCount >= 3 else { throw invalid("\(vertexCount) vertices, at least 3 are needed") }
        guard content.faces.count % 3 == 0 else { throw invalid("\(content.faces.count) face indices is not a multiple of 3") }
        guard content.faceCount >= 1 else { throw invalid("no faces, at least 1 is needed") }
        if let bad = content.faces.firstIndex(where: { $0 < 0 || Int($0) >= vertexCount }) {
            throw invalid("face \(bad / 3) refers to vertex \(content.faces[bad]), outside 0..<\(vertexCount)")
        }
        guard content.deltas.count == content.shapeCount * vertexCount * 3 else {
            throw invalid("\(content.deltas.count) delta floats for \(content.shapeCount) shapes x \(vertexCount) vertices x 3")
        }
        if let uvs = content.uvs, uvs.count != vertexCount * 2 {
            throw invalid("\(uvs.count) uv floats for \(vertexCount) vertices x 2")
        }
        if let normals = content.normals, normals.count != vertexCount * 3 {
            throw invalid("\(normals.count) normal floats for \(vertexCount) vertices x 3")
        }
        for (label, values) in [("vertices", content.vertices), ("deltas", content.deltas), ("uvs", content.uvs ?? []), ("normals", content.normals ?? [])] {
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw invalid("\(label) holds a non-finite value (\(values[bad])) at element \(bad)")
            }
        }
        var seen = Set<String>()
        for name in content.shapeNames {
            guard !name.isEmpty, !name.utf8.contains(0) else { throw invalid("a shape name is empty or contains NUL") }
            guard seen.insert(name).inserted else { throw invalid("shape name '\(name)' appears twice") }
        }
    }
}
