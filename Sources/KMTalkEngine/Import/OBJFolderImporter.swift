
/// Imports a rig from a folder of Wavefront OBJ files: a neutral mesh plus one OBJ per
/// blendshape with the same topology (the ICT-FaceKit layout).
///
/// - Neutral: `neutral` (a file name in the folder), else the one `.obj` whose name
///   contains `neutral`.
/// - Shapes: every other `.obj`, named by its file stem, in file-name order. When the
///   folder holds an ICT-FaceKit manifest (`vertex_indices.json` with an `expressions`
///   list) and `useManifest` is set, exactly the listed expressions are imported, in that
///   order, and the other OBJs are skipped with a note.
/// - A shape file whose vertex count or faces differ from the neutral's is skipped with a
///   note rather than failing the import: a folder may hold unrelated meshes, and one stray
///   file should not block the rest. No shape left is an error.
/// - Faces: polygons triangulated as fans from their first corner. Deltas are
///   shape - neutral.
/// - UVs: OBJ texture coordinates belong to face corners. They are kept when every vertex
///   has a single texture coordinate; when some vertex has several (a UV seam), they are
///   dropped with a note, since splitting vertices would change the vertex count the
///   deltas and other tools index by.
/// - Units: `units`, else guessed from the neutral's size (a head of under 3 units is
///   metres, under 300 centimetres, else millimetres), with a note.
///
/// Errors: KMT_ERR_IO (folder or file unreadable), KMT_ERR_INVALID_ARGUMENT (no neutral,
/// no shapes), KMT_ERR_CORRUPT_RIG (malformed OBJ, with file and line).
enum OBJFolderImporter {
    /// ICT-FaceKit's manifest file name.
    static let manifestName = "vertex_indices.json"

    /// Imports the folder at `directory`. Its files must be in it: a symbolic link that
    /// leads out of the folder is refused unless `allowOutsideFiles` is set. `progress`
    /// receives the share of the OBJ files read (0...1) after each; what it throws (a
    /// cancellation) stops the import.
    static func importRig(
        directory: String, neutral: String? = nil, units: RigUnits? = nil, useManifest: Bool = true,
        allowOutsideFiles: Bool = false, progress: ((Double) throws -> Void)? = nil
    ) throws -> RigImport {
        guard DirectoryListing.isDirectory(directory) else {
            throw KMTError(.io, "\(directory): not a folder")
        }
        let folder = AssetFolder(path: directory, allowOutside: allowOutsideFiles)
        func inside(_ name: String) throws -> String { try folder.resolve(name, source: directory, what: "the file") }
        var notes: [String] = []
        let entries = try DirectoryListing.names(in: directory)
        let objFiles = entries.filter { $0.lowercased().hasSuffix(".obj") && DirectoryListing.isFile(directory + "/" + $0) }
        func stem(_ name: String) -> String { String(name.dropLast(4)) }

        let neutralName: String
        if let neutral {
            let name = neutral.split(separator: "/").last.map(String.init) ?? neutral
            guard objFiles.contains(name) else {
                throw KMTError.invalidArgument("\(directory): no neutral OBJ '\(name)' in the folder")
            }
            neutralName = name
        } else {
            let candidates = objFiles.filter { $0.lowercased().contains("neutral") }
            guard candidates.count == 1 else {
                throw KMTError.invalidArgument("\(directory): \(candidates.isEmpty ? "no OBJ named *neutral*" : "several OBJs named *neutral* (\(candidates.joined(separator: ", ")))"); name the neutral mesh with --neutral")
            }
            neutralName = candidates[0]
        }

        var shapeFiles = objFiles.filter { $0 != neutralName }
        if useManifest, entries.contains(manifestName), let listed = try manifestExpressions(inside(manifestName)) {
            let available = Set(shapeFiles.map(stem))
            let listedSet = Set(listed)
            let missing = listed.filter { !available.contains($0) }
            if !missing.isEmpty { notes.append("\(manifestName) lists \(missing.count) expression(s) without an OBJ: \(missing.joined(separator: ", "))") }
            let extra = shapeFiles.map(stem).filter { !listedSet.contains($0) }
            if !extra.isEmpty {
                notes.append("\(manifestName) lists \(listed.count) expressions; \(extra.count) other OBJ(s) skipped: \(extra.joined(separator: ", ")) (import every OBJ with --all)")
            }
            var fileByStem: [String: String] = [:]
            for file in shapeFiles { fileByStem[stem(file)] = file }
            shapeFiles = listed.compactMap { fileByStem[$0] }
        }
        guard !shapeFiles.isEmpty else {
            throw KMTError.invalidArgument("\(directory): no shape OBJs beside the neutral \(neutralName)")
        }

        let fileCount = Double(shapeFiles.count + 1)
        let neutralMesh = try OBJMesh(bytes: FileBytes.read(inside(neutralName)), source: directory + "/" + neutralName)
        try progress?(1 / fileCount)
        let vertexCount = neutralMesh.vertexCount
        guard vertexCount >= 3, neutralMesh.polygonCount >= 1 else {
            throw KMTError.invalidArgument("\(neutralName): \(vertexCount) vertices and \(neutralMesh.polygonCount) faces, a rig needs at least 3 and 1")
        }
        let faces = neutralMesh.fanTriangles
        if neutralMesh.normalCount > 0 { notes.append("\(neutralName): \(neutralMesh.normalCount) normals (vn) not imported; renderers compute them") }
        if neutralMesh.lineCount > 0 { notes.append("\(neutralName): \(neutralMesh.lineCount) line/point statements ignored") }
        let uvs = consistentUVs(neutralMesh, name: neutralName, notes: &notes)

        var names: [String] = []
        var deltas: [Float] = []
        deltas.reserveCapacity(shapeFiles.count * vertexCount * 3)
        var skipped: [String] = []
        for (index, file) in shapeFiles.enumerated() {
            let path = directory + "/" + file
            let mesh = try OBJMesh(bytes: FileBytes.read(inside(file)), source: path)
            try progress?(Double(index + 2) / fileCount)
            guard mesh.vertexCount == vertexCount else {
                skipped.append("\(file) (\(mesh.vertexCount) vertices, the neutral has \(vertexCount))")
                continue
            }
            guard mesh.cornerVertices == neutralMesh.cornerVertices, mesh.polygonStarts == neutralMesh.polygonStarts else {
                skipped.append("\(file) (same vertex count, different faces)")
                continue
            }
            names.append(stem(file))
            for element in 0..<(vertexCount * 3) {
                deltas.append(mesh.positions[element] - neutralMesh.positions[element])
            }
        }
        if !skipped.isEmpty { notes.append("skipped \(skipped.count) OBJ(s) whose topology differs from the neutral: \(skipped.joined(separator: "; "))") }
        guard !names.isEmpty else {
            throw KMTError.invalidArgument("\(directory): no shape OBJ has the neutral's topology (\(vertexCount) vertices)")
        }

        let chosenUnits: RigUnits
        if let units {
            chosenUnits = units
        } else {
            var low = [Float](repeating: .infinity, count: 3)
            var high = [Float](repeating: -.infinity, count: 3)
            for vertex in 0..<vertexCount {
                for k in 0..<3 {
                    low[k] = min(low[k], neutralMesh.positions[3 * vertex + k])
                    high[k] = max(high[k], neutralMesh.positions[3 * vertex + k])
                }
            }
            let size = (0..<3).map { high[$0] - low[$0] }.max()!
            chosenUnits = size < 3 ? .meters : size < 300 ? .centimeters : .millimeters
            notes.append("units guessed as \(chosenUnits.rawValue) from the mesh's size (\(size) across); set them with --units")
        }
        let rig = RigContent(
            vertices: neutralMesh.positions, faces: faces, shapeNames: names, deltas: deltas,
            uvs: uvs, normals: nil, units: chosenUnits,
            extraMetadata: [
                ("source", "\(directory.split(separator: "/").last.map(String.init) ?? directory): \(neutralName) + \(names.count) shape OBJs"),
                ("description", "imported from OBJ files (fan-triangulated)"),
            ])
        return RigImport(rig: rig, notes: notes)
    }

    /// The `expressions` list of an ICT-FaceKit manifest, or nil when the file has none.
    static func manifestExpressions(_ path: String) throws -> [String]? {
        guard let parsed = try? JSONParser.parse(FileBytes.read(path)),
            let list = parsed["expressions"]?.arrayValue
        else { return nil }
        let names = list.compactMap(\.stringValue)
        return names.count == list.count && !names.isEmpty ? names : nil
    }

    /// Per-vertex UVs when every vertex's corners agree on one texture coordinate (vertices
    /// in no face get (0, 0)); nil with a note otherwise, or when the mesh has none.
    static func consistentUVs(_ mesh: OBJMesh, name: String, notes: inout [String]) -> [Float]? {
        guard !mesh.textureCoordinates.isEmpty else { return nil }
        var uvs = [Float](repeating: 0, count: mesh.vertexCount * 2)
        var assigned = [Bool](repeating: false, count: mesh.vertexCount)
        var conflicting = Set<Int32>()
        var missing = 0
        for (corner, vertex) in mesh.cornerVertices.enumerated() {
            let texture = Int(mesh.cornerTextures[corner])
            guard texture >= 0 else {
                missing += 1
                continue
            }
            let u = mesh.textureCoordinates[2 * texture]
            let v = mesh.textureCoordinates[2 * texture + 1]
            let slot = Int(vertex)
            if !assigned[slot] {
                assigned[slot] = true
                uvs[2 * slot] = u
                uvs[2 * slot + 1] = v
            } else if uvs[2 * slot] != u || uvs[2 * slot + 1] != v {
                conflicting.insert(vertex)
            }
        }
        if !conflicting.isEmpty {
            notes.append("\(name): \(conflicting.count) vertices have several UVs (seams); UVs dropped, since splitting those vertices would change the vertex indexing the deltas share")
            return nil
        }
        if missing > 0 {
            notes.append("\(name): \(missing) face corners have no UV; UVs dropped")
            return nil
        }
        return uvs
    }
}
