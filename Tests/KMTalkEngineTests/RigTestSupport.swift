import Foundation
import Testing

@testable import KMTalkEngine

/// A small rig described in memory, written as a kmtalk-rig safetensors file for tests;
/// every field can be broken before encoding.
struct RigBuilder {
    var shapeNames: [String]
    var vertexCount: Int
    /// V x 3 floats.
    var vertices: [Float]
    /// F x 3 indices.
    var faces: [Int32]
    /// S x V x 3 floats.
    var deltas: [Float]
    var uvs: [Float]?
    var normals: [Float]?
    var deltasAsF16 = false
    var metadata: [(key: String, value: String)]
    /// Replaces the encoded tensor list just before writing (to break dtypes and shapes).
    var editEntries: (inout [SafeTensorsWriter.Entry]) -> Void = { _ in }
    /// Bytes appended after the data section.
    var trailingBytes: [UInt8] = []

    /// A random rig: a strip of triangles over `vertexCount` vertices, deltas in [-1, 1].
    init(shapeNames: [String], vertexCount: Int = 7, seed: UInt64 = 1) {
        var generator = SeededGenerator(seed: seed)
        self.shapeNames = shapeNames
        self.vertexCount = vertexCount
        vertices = (0..<(vertexCount * 3)).map { _ in Float.random(in: -10...10, using: &generator) }
        faces = (0..<(vertexCount - 2)).flatMap { (first: Int) -> [Int32] in
            let corner = Int32(first)
            return [corner, corner + 1, corner + 2]
        }
        deltas = (0..<(shapeNames.count * vertexCount * 3)).map { _ in Float.random(in: -1...1, using: &generator) }
        uvs = (0..<(vertexCount * 2)).map { _ in Float.random(in: 0...1, using: &generator) }
        normals = (0..<vertexCount).flatMap { _ in [Float(0), 0, 1] }
        metadata = [
            ("format", "kmtalk-rig"), ("format_version", "1"),
            ("channels", RigBuilder.jsonArray(shapeNames)), ("units", "cm"),
            ("up_axis", "+y"), ("forward_axis", "+z"), ("description", "test rig"),
        ]
    }

    var faceCount: Int { faces.count / 3 }

    /// Sets (or with nil removes) a metadata entry.
    mutating func setMetadata(_ key: String, _ value: String?) {
        metadata.removeAll { $0.key == key }
        if let value { metadata.append((key, value)) }
    }

    /// The tensor entries as the file stores them.
    var entries: [SafeTensorsWriter.Entry] {
        var entries: [SafeTensorsWriter.Entry] = [
            .float32("vertices", Tensor(shape: [vertexCount, 3], data: vertices)),
            .int32("faces", shape: [faces.count / 3, 3], faces),
        ]
        let deltaTensor = Tensor(shape: [shapeNames.count, vertexCount, 3], data: deltas)
        entries.append(deltasAsF16 ? .float16("deltas", deltaTensor) : .float32("deltas", deltaTensor))
        if let uvs { entries.append(.float32("uvs", Tensor(shape: [vertexCount, 2], data: uvs))) }
        if let normals { entries.append(.float32("normals", Tensor(shape: [vertexCount, 3], data: normals))) }
        return entries
    }

    /// The rig file's bytes.
    func encode() -> [UInt8] {
        var entries = self.entries
        editEntries(&entries)
        return SafeTensorsWriter.encode(entries: entries, metadata: metadata) + trailingBytes
    }

    /// Loads the encoded rig.
    func load() throws -> Rig {
        try Rig(bytes: encode(), source: "test.rig.safetensors")
    }

    /// Posed vertices computed naively, in double precision: template (when `absolute`) +
    /// sum over shapes of weight * delta.
    func naivePose(shapeWeights: [Float], absolute: Bool) -> [Float] {
        (0..<(vertexCount * 3)).map { element in
            var sum = absolute ? Double(vertices[element]) : 0
            for shape in shapeNames.indices {
                sum += Double(shapeWeights[shape]) * Double(deltas[shape * vertexCount * 3 + element])
            }
            return Float(sum)
        }
    }

    /// A JSON array of strings.
    static func jsonArray(_ names: [String]) -> String {
        "[" + names.map(JSONText.quoted).joined(separator: ",") + "]"
    }
}

/// Largest absolute difference of two equally long float arrays; infinity otherwise.
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
