import Foundation
import Testing

@testable import KMTalkEngine

/// Inputs shared by the export tests.
enum ExportFixtures {
    /// Rig shapes in several naming styles: exact, ICT-FaceKit sides, split halves, one
    /// no ARKit channel drives.
    static let shapeNames = ["jawOpen", "eyeBlink_L", "eyeBlink_R", "browInnerUp_L", "browInnerUp_R", "mouthSmileLeft", "cheekRaiser_L"]

    /// `frames` frames of random weights in -0.2...1.2 for `names`, at `fps`.
    static func animation(
        _ names: [String] = ARKitChannels.names, frames: Int = 12, fps: Double = 60, seed: UInt64 = 11,
        source: String? = "speech \"1\".wav", model: String? = "models/test.safetensors"
    ) -> Animation {
        var generator = SeededGenerator(seed: seed)
        let values = (0..<(frames * names.count)).map { _ in Float.random(in: -0.2...1.2, using: &generator) }
        return Animation(
            values: Tensor(shape: [frames, names.count], data: values), fps: fps, channelNames: names,
            source: source, model: model)
    }

    /// A test rig (a triangle strip over `vertexCount` vertices, in cm).
    static func rig(vertexCount: Int = 11, uvs: Bool = true, normals: Bool = false, units: String = "cm") throws -> (RigBuilder, Rig) {
        var builder = RigBuilder(shapeNames: shapeNames, vertexCount: vertexCount, seed: 21)
        if !uvs { builder.uvs = nil }
        if !normals { builder.normals = nil }
        builder.setMetadata("units", units)
        return (builder, try builder.load())
    }

    /// The animation's weight for `channel` at `frame`.
    static func value(_ animation: Animation, frame: Int, channel: String) -> Float? {
        guard let index = animation.channelNames.firstIndex(of: channel) else { return nil }
        return animation.values.data[frame * animation.channelCount + index]
    }
}

/// Reads little-endian values out of a byte array, failing the test (not trapping) on a
/// read past the end.
struct ByteReader {
    let bytes: [UInt8]

    func uint32(_ offset: Int) throws -> UInt32 {
        try #require(offset >= 0 && offset + 4 <= bytes.count, "uint32 at \(offset) past \(bytes.count) bytes")
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    func uint16(_ offset: Int) throws -> UInt16 {
        try #require(offset >= 0 && offset + 2 <= bytes.count, "uint16 at \(offset) past \(bytes.count) bytes")
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    func float(_ offset: Int) throws -> Float {
        Float(bitPattern: try uint32(offset))
    }

    func floats(_ offset: Int, count: Int) throws -> [Float] {
        try (0..<count).map { try float(offset + $0 * 4) }
    }
}

/// A GLB file split and its JSON decoded, as a test's independent reader (Foundation's
/// JSONSerialization, not the engine's code).
struct ParsedGLB {
    let totalLength: Int
    let jsonChunkLength: Int
    let jsonBytes: [UInt8]
    let json: [String: Any]
    let binary: [UInt8]

    init(_ bytes: [UInt8]) throws {
        let reader = ByteReader(bytes: bytes)
        try #require(bytes.count >= 20, "GLB shorter than its headers")
        #expect(try reader.uint32(0) == 0x4654_6C67, "magic")
        #expect(try reader.uint32(4) == 2, "version")
        totalLength = Int(try reader.uint32(8))
        #expect(totalLength == bytes.count, "header length \(totalLength) vs file \(bytes.count)")
        jsonChunkLength = Int(try reader.uint32(12))
        #expect(try reader.uint32(16) == 0x4E4F_534A, "first chunk is JSON")
        #expect(jsonChunkLength % 4 == 0, "JSON chunk length \(jsonChunkLength) not a multiple of 4")
        try #require(20 + jsonChunkLength <= bytes.count)
        jsonBytes = Array(bytes[20..<(20 + jsonChunkLength)])
        let object = try JSONSerialization.jsonObject(with: Data(jsonBytes))
        json = try need(object as? [String: Any])
        let binStart = 20 + jsonChunkLength
        try #require(binStart + 8 <= bytes.count, "no BIN chunk")
        let binLength = Int(try reader.uint32(binStart))
        #expect(try reader.uint32(binStart + 4) == 0x004E_4942, "second chunk is BIN")
        #expect(binLength % 4 == 0, "BIN chunk length \(binLength) not a multiple of 4")
        #expect(binStart + 8 + binLength == bytes.count, "BIN chunk does not end the file")
        try #require(binStart + 8 + binLength <= bytes.count)
        binary = Array(bytes[(binStart + 8)..<(binStart + 8 + binLength)])
    }

    func array(_ key: String) throws -> [[String: Any]] {
        try need(json[key] as? [[String: Any]], "no '\(key)' array")
    }

    /// Bytes per component of a glTF componentType.
    static func componentSize(_ type: Int) -> Int? {
        switch type {
        case 5120, 5121: return 1
        case 5122, 5123: return 2
        case 5125, 5126: return 4
        default: return nil
        }
    }

    /// Components per element of an accessor type.
    static func componentCount(_ type: String) -> Int? {
        ["SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16][type]
    }

    /// The float values of accessor `index` (FLOAT accessors only), sparse ones included:
    /// the base (zeros without a bufferView), then the listed elements replaced.
    func floats(accessor index: Int) throws -> [Float] {
        let accessors = try array("accessors")
        try #require(index >= 0 && index < accessors.count)
        let accessor = accessors[index]
        #expect(accessor["componentType"] as? Int == 5126)
        let components = try need(Self.componentCount(try need(accessor["type"] as? String)))
        let count = try need(accessor["count"] as? Int)
        let reader = ByteReader(bytes: binary)
        var values: [Float] = []
        if let viewIndex = accessor["bufferView"] as? Int {
            let view = try array("bufferViews")[viewIndex]
            let start = (view["byteOffset"] as? Int ?? 0) + (accessor["byteOffset"] as? Int ?? 0)
            let stride = view["byteStride"] as? Int ?? components * 4
            for element in 0..<count {
                values += try reader.floats(start + element * stride, count: components)
            }
        } else {
            values = [Float](repeating: 0, count: count * components)
        }
        if let sparse = accessor["sparse"] as? [String: Any] {
            let indices = try sparseIndices(sparse)
            let valuesObject = try need(sparse["values"] as? [String: Any])
            let view = try array("bufferViews")[try need(valuesObject["bufferView"] as? Int)]
            let start = (view["byteOffset"] as? Int ?? 0) + (valuesObject["byteOffset"] as? Int ?? 0)
            for (position, element) in indices.enumerated() {
                try #require(element >= 0 && element < count, "sparse index \(element) outside \(count)")
                let replaced = try reader.floats(start + position * components * 4, count: components)
                values.replaceSubrange((element * components)..<((element + 1) * components), with: replaced)
            }
        }
        return values
    }

    /// The element indices of a sparse accessor's `sparse` object.
    func sparseIndices(_ sparse: [String: Any]) throws -> [Int] {
        let count = try need(sparse["count"] as? Int)
        let object = try need(sparse["indices"] as? [String: Any])
        let view = try array("bufferViews")[try need(object["bufferView"] as? Int)]
        let start = (view["byteOffset"] as? Int ?? 0) + (object["byteOffset"] as? Int ?? 0)
        return try unsignedIntegers(at: start, count: count, componentType: object["componentType"] as? Int, what: "sparse indices")
    }

    /// The unsigned integer values of accessor `index`.
    func integers(accessor index: Int) throws -> [Int] {
        let accessor = try array("accessors")[index]
        let view = try array("bufferViews")[try need(accessor["bufferView"] as? Int)]
        let count = try need(accessor["count"] as? Int)
        let start = (view["byteOffset"] as? Int ?? 0) + (accessor["byteOffset"] as? Int ?? 0)
        return try unsignedIntegers(at: start, count: count, componentType: accessor["componentType"] as? Int, what: "index accessor")
    }

    /// `count` unsigned shorts (5123) or ints (5125) from byte `start` of the BIN chunk.
    private func unsignedIntegers(at start: Int, count: Int, componentType: Int?, what: String) throws -> [Int] {
        let reader = ByteReader(bytes: binary)
        switch componentType {
        case 5123: return try (0..<count).map { Int(try reader.uint16(start + $0 * 2)) }
        case 5125: return try (0..<count).map { Int(try reader.uint32(start + $0 * 4)) }
        default:
            Issue.record("\(what) of type \(String(describing: componentType))")
            return []
        }
    }
}

/// The number `value` of a JSON array element as a Float.
func jsonFloats(_ value: Any?) -> [Float]? {
    (value as? [NSNumber])?.map { $0.floatValue }
}

/// A value a test needed was missing.
struct MissingValue: Error, CustomStringConvertible {
    let description: String
}

/// Unwraps `value`, recording an issue and throwing when it is nil: `#require` for
/// optionals that nests inside other expectations (macros cannot nest).
func need<T>(_ value: T?, _ what: @autoclosure () -> String = "a value", sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
    guard let value else {
        Issue.record("missing \(what())", sourceLocation: sourceLocation)
        throw MissingValue(description: "missing \(what())")
    }
    return value
}
