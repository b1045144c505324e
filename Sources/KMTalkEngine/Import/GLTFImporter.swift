
/// Imports a rig from a glTF 2.0 asset (`.glb` or `.gltf`) whose mesh has morph targets.
///
/// - Mesh: `meshName` (a mesh name or index), else the mesh with morph targets (when several
///   have them, the one with the most targets, then the most vertices; a note names the rest).
/// - Geometry: every triangle primitive of the mesh (modes TRIANGLES, TRIANGLE_STRIP and
///   TRIANGLE_FAN; indexed with any index type, or not) merged into one vertex list;
///   primitives sharing the same vertex accessors share their vertices. POSITION, NORMAL
///   and TEXCOORD_0 (v flipped to the rig's v-up convention) are read with any component
///   type, normalised or not, sparse or not; normals and UVs are kept only when every
///   primitive has them.
/// - Shapes: the morph targets' POSITION deltas, named from `mesh.extras.targetNames`, else
///   the first primitive's `extras.targetNames`, else `target_<i>`.
/// - Placement: the world transform of the first node showing the mesh is applied to the
///   positions (all of it) and to the deltas and normals (its linear part); a mirroring
///   transform reverses the triangles so they stay counter-clockwise. Units are metres.
///
/// Errors: KMT_ERR_UNSUPPORTED_FORMAT (not glTF 2.0, a required extension it cannot
/// decode), KMT_ERR_CORRUPT_RIG (malformed file: truncated GLB, bad chunk, accessor out of
/// range, no morph targets, ...), KMT_ERR_IO (unreadable file).
enum GLTFImporter {
    /// Imports the file at `path`; external buffers are looked up beside it, and must stay
    /// in its folder (no absolute path, `..` or symbolic link out of it) unless
    /// `allowOutsideFiles` is set.
    /// `progress` receives the share done (0...1): after the file is read, then after each
    /// mesh primitive; what it throws (a cancellation) stops the import.
    static func importRig(
        path: String, mesh meshName: String? = nil, allowOutsideFiles: Bool = false,
        progress: ((Double) throws -> Void)? = nil
    ) throws -> RigImport {
        let bytes = try FileBytes.read(path)
        try progress?(0.1)
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        return try importRig(
            bytes: bytes, source: path, baseDirectory: directory.isEmpty ? "/" : directory, mesh: meshName,
            allowOutsideFiles: allowOutsideFiles,
            progress: progress.map { report -> (Double) throws -> Void in { try report(0.1 + 0.9 * $0) } })
    }

    /// Imports a glTF held in memory. `baseDirectory` resolves external buffer files (nil:
    /// only embedded buffers are allowed), which must stay inside it unless
    /// `allowOutsideFiles` is set. `progress` receives the share of the mesh's primitives
    /// read (0...1) after each.
    static func importRig(
        bytes: [UInt8], source: String, baseDirectory: String? = nil, mesh meshName: String? = nil, allowOutsideFiles: Bool = false,
        progress: ((Double) throws -> Void)? = nil
    ) throws -> RigImport {
        let folder = baseDirectory.map { AssetFolder(path: $0, allowOutside: allowOutsideFiles) }
        let document = try GLTFDocument(bytes: bytes, source: source, folder: folder)
        var notes: [String] = []
        func corrupt(_ detail: String) -> KMTError { .corruptRig("\(source): \(detail)") }

        let meshes = document.json["meshes"]?.arrayValue ?? []
        guard !meshes.isEmpty else { throw corrupt("the file has no meshes") }
        func label(_ index: Int) -> String {
            meshes[index]["name"]?.stringValue.map { "'\($0)'" } ?? "#\(index)"
        }
        func targetCount(_ index: Int) -> Int {
            (meshes[index]["primitives"]?.arrayValue ?? []).map { $0["targets"]?.arrayValue?.count ?? 0 }.max() ?? 0
        }
        let meshIndex: Int
        if let meshName {
            if let found = meshes.firstIndex(where: { $0["name"]?.stringValue == meshName }) {
                meshIndex = found
            } else if let number = Int(meshName), number >= 0, number < meshes.count {
                meshIndex = number
            } else {
                throw KMTError.invalidArgument("\(source): no mesh named '\(meshName)' (meshes: \(meshes.indices.map(label).joined(separator: ", ")))")
            }
        } else {
            let morphed = meshes.indices.filter { targetCount($0) > 0 }
            guard !morphed.isEmpty else {
                throw corrupt("no mesh has morph targets (meshes: \(meshes.indices.map(label).joined(separator: ", "))); a rig needs blendshapes")
            }
            let sizes = morphed.map { index in
                (meshes[index]["primitives"]?.arrayValue ?? []).reduce(0) { total, primitive in
                    total + (primitive["attributes"]?["POSITION"]?.integerValue.flatMap { document.json["accessors"]?.arrayValue?[safe: $0]?["count"]?.integerValue } ?? 0)
                }
            }
            let best = morphed.indices.max { (targetCount(morphed[$0]), sizes[$0]) < (targetCount(morphed[$1]), sizes[$1]) }!
            meshIndex = morphed[best]
            if morphed.count > 1 {
                notes.append("\(morphed.count) meshes have morph targets; imported mesh \(label(meshIndex)) (\(targetCount(meshIndex)) targets), not \(morphed.filter { $0 != meshIndex }.map(label).joined(separator: ", ")) (choose with --mesh)")
            }
        }
        let mesh = meshes[meshIndex]
        let meshLabel = "mesh \(label(meshIndex))"
        guard let primitives = mesh["primitives"]?.arrayValue, !primitives.isEmpty else {
            throw corrupt("\(meshLabel) has no primitives")
        }
        let shapeCount = targetCount(meshIndex)
        guard shapeCount > 0 else { throw corrupt("\(meshLabel) has no morph targets; a rig needs blendshapes") }

        let transform = try worldTransform(of: meshIndex, document: document, notes: &notes)
        let mirrored = transform.determinant < 0

        // Read and merge the primitives.
        var positions: [Float] = []
        var normals: [Float]? = []
        var uvs: [Float]? = []
        var deltas = [[Float]](repeating: [], count: shapeCount)
        var faces: [Int32] = []
        var shared: [[Int]: (base: Int, count: Int)] = [:]
        var skipped = 0
        var degenerate = 0
        for (primitiveIndex, primitive) in primitives.enumerated() {
            let what = "\(meshLabel) primitive \(primitiveIndex)"
            let mode = primitive["mode"]?.integerValue ?? 4
            guard [4, 5, 6].contains(mode) else {
                skipped += 1
                notes.append("\(what): mode \(mode) (points or lines) skipped")
                continue
            }
            guard let attributes = primitive["attributes"], let positionAccessor = attributes["POSITION"]?.integerValue else {
                throw corrupt("\(what) has no POSITION attribute")
            }
            let targets = primitive["targets"]?.arrayValue ?? []
            guard targets.count == shapeCount else {
                throw corrupt("\(what) has \(targets.count) morph targets, another primitive of the mesh has \(shapeCount) (glTF requires the same number)")
            }
            let normalAccessor = attributes["NORMAL"]?.integerValue
            let uvAccessor = attributes["TEXCOORD_0"]?.integerValue
            let targetAccessors = targets.map { $0["POSITION"]?.integerValue ?? -1 }
            let key = [positionAccessor, normalAccessor ?? -1, uvAccessor ?? -1] + targetAccessors
            let base: Int
            let vertexCount: Int
            if let existing = shared[key] {
                (base, vertexCount) = existing
            } else {
                let read = try document.floats(accessor: positionAccessor, types: ["VEC3"], what: "\(what) POSITION")
                vertexCount = read.count
                base = positions.count / 3
                guard base + vertexCount <= Int(Int32.max) else { throw corrupt("\(meshLabel) has more vertices than a rig can index") }
                shared[key] = (base, vertexCount)
                positions += read.values
                if normals != nil, let normalAccessor {
                    let normal = try document.floats(accessor: normalAccessor, types: ["VEC3"], what: "\(what) NORMAL")
                    guard normal.count == vertexCount else { throw corrupt("\(what): NORMAL has \(normal.count) elements, POSITION \(vertexCount)") }
                    normals! += normal.values
                } else if normals != nil {
                    normals = nil
                    notes.append("\(what) has no NORMAL: normals dropped")
                }
                if uvs != nil, let uvAccessor {
                    let uv = try document.floats(accessor: uvAccessor, types: ["VEC2"], what: "\(what) TEXCOORD_0")
                    guard uv.count == vertexCount else { throw corrupt("\(what): TEXCOORD_0 has \(uv.count) elements, POSITION \(vertexCount)") }
                    for element in 0..<vertexCount {
                        uvs! += [uv.values[2 * element], 1 - uv.values[2 * element + 1]]
                    }
                } else if uvs != nil {
                    uvs = nil
                    notes.append("\(what) has no TEXCOORD_0: UVs dropped")
                }
                for (shape, accessor) in targetAccessors.enumerated() {
                    if accessor < 0 {
                        deltas[shape] += [Float](repeating: 0, count: vertexCount * 3)
                        continue
                    }
                    let delta = try document.floats(accessor: accessor, types: ["VEC3"], what: "\(what) morph target \(shape) POSITION")
                    guard delta.count == vertexCount else {
                        throw corrupt("\(what): morph target \(shape) has \(delta.count) elements, POSITION \(vertexCount)")
                    }
                    deltas[shape] += delta.values
                    try progress?((Double(primitiveIndex) + Double(shape + 1) / Double(shapeCount + 1)) / Double(primitives.count))
                }
            }

            let corners: [Int]
            if let indexAccessor = primitive["indices"]?.integerValue {
                corners = try document.indices(accessor: indexAccessor, what: "\(what) indices")
                if let bad = corners.first(where: { $0 >= vertexCount }) {
                    throw corrupt("\(what): index \(bad) is outside the primitive's \(vertexCount) vertices")
                }
            } else {
                corners = Array(0..<vertexCount)
            }
            var triangles: [(Int, Int, Int)] = []
            if corners.count >= 3 {
                switch mode {
                case 4:
                    if corners.count % 3 != 0 { notes.append("\(what): \(corners.count % 3) trailing indices ignored") }
                    for first in stride(from: 0, to: corners.count - 2, by: 3) {
                        triangles.append((corners[first], corners[first + 1], corners[first + 2]))
                    }
                case 5:
                    for first in 0..<(corners.count - 2) {
                        let even = first % 2 == 0
                        triangles.append((corners[even ? first : first + 1], corners[even ? first + 1 : first], corners[first + 2]))
                    }
                default:
                    for first in 1..<(corners.count - 1) {
                        triangles.append((corners[0], corners[first], corners[first + 1]))
                    }
                }
            }
            for (a, b, c) in triangles {
                guard a != b, b != c, a != c else {
                    degenerate += 1
                    continue
                }
                let (second, third) = mirrored ? (c, b) : (b, c)
                faces += [Int32(base + a), Int32(base + second), Int32(base + third)]
            }
            try progress?(Double(primitiveIndex + 1) / Double(primitives.count))
        }
        if skipped == primitives.count { throw corrupt("\(meshLabel) has no triangle primitives") }
        if degenerate > 0 { notes.append("\(degenerate) degenerate triangles (a repeated vertex) dropped") }
        guard !faces.isEmpty else { throw corrupt("\(meshLabel) has no triangles") }

        // Placement.
        var allDeltas = deltas.flatMap { $0 }
        if !transform.isIdentity {
            transform.apply(to: &positions, translate: true)
            transform.apply(to: &allDeltas, translate: false)
            if normals != nil { transform.applyToNormals(&normals!) }
        } else if normals != nil {
            AffineTransform.identity.applyToNormals(&normals!)
        }

        let names = shapeNames(mesh: mesh, primitives: primitives, count: shapeCount, notes: &notes)
        if let weights = mesh["weights"]?.arrayValue, weights.contains(where: { ($0.doubleValue ?? 0) != 0 }) {
            notes.append("\(meshLabel) has default morph weights; the rig's neutral is the base mesh (all weights 0)")
        }
        var metadata: [(key: String, value: String)] = [
            ("source", "\(source.split(separator: "/").last.map(String.init) ?? source), \(meshLabel)"),
            ("description", "imported from glTF: \(meshLabel), \(names.count) morph targets"),
        ]
        if let copyright = document.json["asset"]?["copyright"]?.stringValue, !copyright.isEmpty {
            metadata.append(("license", copyright))
        }
        let rig = RigContent(
            vertices: positions, faces: faces, shapeNames: names, deltas: allDeltas,
            uvs: uvs, normals: normals, units: .meters, extraMetadata: metadata)
        return RigImport(rig: rig, notes: notes)
    }

    /// The target names: `mesh.extras.targetNames`, else the first primitive's
    /// `extras.targetNames`, else `target_<i>`; empty or repeated names are replaced.
    static func shapeNames(mesh: JSONValue, primitives: [JSONValue], count: Int, notes: inout [String]) -> [String] {
        var names = (0..<count).map { "target_\($0)" }
        for (origin, candidate) in [("mesh.extras.targetNames", mesh["extras"]?["targetNames"]),
                                    ("primitive.extras.targetNames", primitives[0]["extras"]?["targetNames"])] {
            guard let candidate else { continue }
            guard let list = candidate.arrayValue, list.count == count, list.allSatisfy({ $0.stringValue != nil }) else {
                notes.append("\(origin) is not a list of \(count) strings; ignored")
                continue
            }
            names = list.map { $0.stringValue! }
            break
        }
        var seen = Set<String>()
        for index in names.indices {
            var name = names[index]
            if name.isEmpty || name.utf8.contains(0) { name = "target_\(index)" }
            if seen.contains(name) {
                var suffix = 2
                while seen.contains("\(name)_\(suffix)") { suffix += 1 }
                notes.append("target name '\(name)' repeats; target \(index) renamed '\(name)_\(suffix)'")
                name = "\(name)_\(suffix)"
            }
            seen.insert(name)
            names[index] = name
        }
        return names
    }

    /// The world transform of the first node (in node order) that shows mesh `meshIndex`:
    /// its local transform composed with its ancestors'. Identity when no node shows it.
    static func worldTransform(of meshIndex: Int, document: GLTFDocument, notes: inout [String]) throws -> AffineTransform {
        let nodes = document.json["nodes"]?.arrayValue ?? []
        let users = nodes.indices.filter { nodes[$0]["mesh"]?.integerValue == meshIndex }
        guard let node = users.first else {
            notes.append("no node shows the mesh; its coordinates are used as they are")
            return .identity
        }
        if users.count > 1 { notes.append("\(users.count) nodes show the mesh; the transform of node \(node) is used") }
        if nodes[node]["skin"] != nil { notes.append("the mesh is skinned; skinning is ignored (bind pose)") }
        var parent = [Int?](repeating: nil, count: nodes.count)
        for (index, candidate) in nodes.enumerated() {
            for child in candidate["children"]?.arrayValue ?? [] {
                guard let child = child.integerValue, child >= 0, child < nodes.count else {
                    throw KMTError.corruptRig("\(document.source): node \(index) has a child outside the \(nodes.count) nodes")
                }
                guard parent[child] == nil else {
                    throw KMTError.corruptRig("\(document.source): node \(child) has two parents")
                }
                parent[child] = index
            }
        }
        var transform = AffineTransform.identity
        var current: Int? = node
        var steps = 0
        while let index = current {
            steps += 1
            guard steps <= nodes.count else { throw KMTError.corruptRig("\(document.source): the node hierarchy has a cycle") }
            transform = try localTransform(nodes[index], index: index, source: document.source).concatenating(transform)
            current = parent[index]
        }
        return transform
    }

    /// A node's `matrix`, or its translation * rotation * scale.
    static func localTransform(_ node: JSONValue, index: Int, source: String) throws -> AffineTransform {
        func numbers(_ key: String, _ count: Int) throws -> [Double]? {
            guard let value = node[key] else { return nil }
            guard let list = value.arrayValue, list.count == count else {
                throw KMTError.corruptRig("\(source): node \(index) \(key) must be \(count) numbers")
            }
            return try list.map {
                guard let number = $0.doubleValue, number.isFinite else {
                    throw KMTError.corruptRig("\(source): node \(index) \(key) must be \(count) numbers")
                }
                return number
            }
        }
        if let matrix = try numbers("matrix", 16) { return AffineTransform(columnMajor: matrix) }
        return AffineTransform(
            translation: try numbers("translation", 3) ?? [0, 0, 0],
            rotation: try numbers("rotation", 4) ?? [0, 0, 0, 1],
            scale: try numbers("scale", 3) ?? [1, 1, 1])
    }
}

extension Array {
    /// The element at `index`, or nil when out of range.
    fileprivate subscript(safe index: Int) -> Element? {
        index >= 0 && index < count ? self[index] : nil
    }
}
