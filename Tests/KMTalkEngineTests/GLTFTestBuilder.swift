import Foundation

@testable import KMTalkEngine

/// Builds small glTF 2.0 assets by hand for the importer tests: binary data appended to one
/// buffer (4-byte aligned), buffer views and accessors written as JSON text, wrapped as a GLB
/// or as a .gltf with a base64 data URI.
struct GLTFTestBuilder {
    var binary: [UInt8] = []
    var bufferViews: [String] = []
    var accessors: [String] = []

    /// Appends `bytes` as a new buffer view (optionally with a byteStride); returns its index.
    mutating func view(_ bytes: [UInt8], stride: Int? = nil) -> Int {
        while binary.count % 4 != 0 { binary.append(0) }
        let strideText = stride.map { ",\"byteStride\":\($0)" } ?? ""
        bufferViews.append("{\"buffer\":0,\"byteOffset\":\(binary.count),\"byteLength\":\(bytes.count)\(strideText)}")
        binary += bytes
        return bufferViews.count - 1
    }

    /// Appends a raw accessor JSON object; returns its index.
    mutating func accessor(_ json: String) -> Int {
        accessors.append(json)
        return accessors.count - 1
    }

    /// A float accessor of `type` over `values`.
    mutating func floats(_ values: [Float], type: String) -> Int {
        let components = ["SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4][type]!
        let bytes = values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let index = view(bytes)
        return accessor("{\"bufferView\":\(index),\"componentType\":5126,\"count\":\(values.count / components),\"type\":\"\(type)\"}")
    }

    /// An index accessor of UNSIGNED_SHORT (5123), UNSIGNED_BYTE (5121) or UNSIGNED_INT (5125).
    mutating func indices(_ values: [Int], componentType: Int = 5123) -> Int {
        let bytes: [UInt8]
        switch componentType {
        case 5121: bytes = values.map { UInt8($0) }
        case 5123: bytes = values.flatMap { withUnsafeBytes(of: UInt16($0).littleEndian, Array.init) }
        default: bytes = values.flatMap { withUnsafeBytes(of: UInt32($0).littleEndian, Array.init) }
        }
        let index = view(bytes)
        return accessor("{\"bufferView\":\(index),\"componentType\":\(componentType),\"count\":\(values.count),\"type\":\"SCALAR\"}")
    }

    /// The asset's JSON with `meshes`, `nodes` and `extra` (more top-level members) filled in,
    /// and buffer 0 either embedded (GLB) or as `uri`.
    func json(meshes: String, nodes: String, extra: String = "", uri: String? = nil) -> String {
        let uriText = uri.map { ",\"uri\":\"\($0)\"" } ?? ""
        return """
            {"asset":{"version":"2.0","generator":"kmtalk tests"},"scene":0,"scenes":[{"nodes":[0]}],\
            "nodes":\(nodes),"meshes":\(meshes),\
            "buffers":[{"byteLength":\(binary.count)\(uriText)}],\
            "bufferViews":[\(bufferViews.joined(separator: ","))],\
            "accessors":[\(accessors.joined(separator: ","))]\(extra)}
            """
    }

    /// A GLB file: header, JSON chunk (space padded), BIN chunk (zero padded).
    func glb(json: String) -> [UInt8] {
        var jsonBytes = Array(json.utf8)
        while jsonBytes.count % 4 != 0 { jsonBytes.append(0x20) }
        var bin = binary
        while bin.count % 4 != 0 { bin.append(0) }
        var file: [UInt8] = []
        func word(_ value: Int) { file += withUnsafeBytes(of: UInt32(value).littleEndian, Array.init) }
        file += Array("glTF".utf8)
        word(2)
        word(12 + 8 + jsonBytes.count + 8 + bin.count)
        word(jsonBytes.count)
        word(0x4E4F_534A)
        file += jsonBytes
        word(bin.count)
        word(0x004E_4942)
        file += bin
        return file
    }

    /// The buffer as a base64 data URI.
    var dataURI: String { "data:application/octet-stream;base64," + Data(binary).base64EncodedString() }
}
