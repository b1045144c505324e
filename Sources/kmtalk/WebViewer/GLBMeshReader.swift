import Foundation

/// Reads the mesh of a GLB that the library's exporter wrote (`kmt_animation_save_to_memory`
/// with `KMT_EXPORT_GLB`): the first primitive's positions and triangles and its morph
/// targets' dense POSITION deltas, all in metres (glTF's unit).
///
/// The C API has no accessor for a rig's blendshape deltas (`kmt_rig_read_vertices` and
/// `kmt_rig_read_faces` give the neutral mesh only), so the web viewer takes them from the
/// library's own GLB export, a documented format (docs/export.md), rather than from the
/// engine's internals. Only what that exporter writes is read: float32 VEC3 positions and
/// deltas (dense, any byte stride), uint16 or uint32 indices.
struct GLBMeshReader {
    /// Neutral positions, V x 3 floats (metres).
    var positions: [Float]
    /// Triangles, F x 3 vertex indices.
    var indices: [UInt32]
    /// One array of V x 3 deltas per morph target, in target order.
    var targets: [[Float]]
    /// `mesh.extras.targetNames`, one per target (empty when absent).
    var targetNames: [String]

    /// Parses `bytes`. Errors: a `CLIError` naming what is missing or malformed.
    init(_ bytes: [UInt8]) throws {
        func fail(_ what: String) -> CLIError { CLIError("the library's GLB export could not be read back: \(what)") }
        func uint32(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        guard bytes.count >= 20, uint32(0) == 0x4654_6C67, uint32(4) == 2 else { throw fail("not a glTF 2.0 binary") }
        // Chunks: JSON (0x4E4F534A) then BIN (0x004E4942), each padded to 4 bytes.
        var offset = 12
        var json: [String: Any]?
        var binary: Range<Int>?
        while offset + 8 <= bytes.count {
            let length = Int(uint32(offset)), type = uint32(offset + 4)
            let body = (offset + 8)..<(offset + 8 + length)
            guard body.upperBound <= bytes.count else { throw fail("a chunk runs past the end") }
            if type == 0x4E4F_534A {
                json = try JSONSerialization.jsonObject(with: Data(bytes[body])) as? [String: Any]
            } else if type == 0x004E_4942 {
                binary = body
            }
            offset = body.upperBound
        }
        guard let json, let binary else { throw fail("no JSON or BIN chunk") }
        let accessors = json["accessors"] as? [[String: Any]] ?? []
        let views = json["bufferViews"] as? [[String: Any]] ?? []
        guard let mesh = (json["meshes"] as? [[String: Any]])?.first,
            let primitive = (mesh["primitives"] as? [[String: Any]])?.first,
            let attributes = primitive["attributes"] as? [String: Any],
            let positionAccessor = attributes["POSITION"] as? Int
        else { throw fail("no mesh with positions") }

        /// The elements of accessor `index`: `components` numbers each, as floats.
        func read(_ index: Int, components: Int) throws -> [Float] {
            guard index >= 0, index < accessors.count else { throw fail("accessor \(index) missing") }
            let accessor = accessors[index]
            guard accessor["sparse"] == nil else { throw fail("sparse accessor \(index) (expected dense targets)") }
            guard let viewIndex = accessor["bufferView"] as? Int, viewIndex >= 0, viewIndex < views.count,
                let count = accessor["count"] as? Int, let componentType = accessor["componentType"] as? Int
            else { throw fail("accessor \(index) incomplete") }
            let view = views[viewIndex]
            let size: Int
            switch componentType {
            case 5126, 5125: size = 4  // float, unsigned int
            case 5123: size = 2  // unsigned short
            default: throw fail("accessor \(index) has component type \(componentType)")
            }
            let stride = (view["byteStride"] as? Int) ?? size * components
            let start = binary.lowerBound + ((view["byteOffset"] as? Int) ?? 0) + ((accessor["byteOffset"] as? Int) ?? 0)
            let end = binary.lowerBound + ((view["byteOffset"] as? Int) ?? 0) + ((view["byteLength"] as? Int) ?? 0)
            guard count >= 0, count == 0 || start + (count - 1) * stride + size * components <= min(end, binary.upperBound) else {
                throw fail("accessor \(index) runs past its view")
            }
            var values = [Float](repeating: 0, count: count * components)
            for element in 0..<count {
                for component in 0..<components {
                    let at = start + element * stride + component * size
                    switch componentType {
                    case 5126: values[element * components + component] = Float(bitPattern: uint32(at))
                    case 5125: values[element * components + component] = Float(uint32(at))
                    default: values[element * components + component] = Float(UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)
                    }
                }
            }
            return values
        }

        let neutral = try read(positionAccessor, components: 3)
        guard let indexAccessor = primitive["indices"] as? Int else { throw fail("no triangle indices") }
        let triangles = try read(indexAccessor, components: 1).map { UInt32($0) }
        guard triangles.allSatisfy({ Int($0) < neutral.count / 3 }) else { throw fail("an index past the vertices") }
        positions = neutral
        indices = triangles
        targets = try ((primitive["targets"] as? [[String: Any]]) ?? []).map { target in
            guard let accessor = target["POSITION"] as? Int else { throw fail("a morph target without positions") }
            let deltas = try read(accessor, components: 3)
            guard deltas.count == neutral.count else { throw fail("a morph target of another size") }
            return deltas
        }
        targetNames = ((mesh["extras"] as? [String: Any])?["targetNames"] as? [String]) ?? []
    }
}
