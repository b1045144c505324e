
/// Writes NumPy `.npy` files (format version 1.0): the magic `\x93NUMPY`, version 1.0, a
/// little-endian uint16 header length, a Python dict literal header padded with spaces and
/// a line break so that the data starts at a multiple of 64 bytes, then the array as
/// little-endian float32 (`<f4`) in C order.
///
/// Without a mesh the array is the weights, shape (frames, channels); with one (a rig, or
/// the template of a vertices-space animation; see `AnimationMesh`) it is the posed vertex
/// positions, shape (frames, V, 3), in the mesh's units.
enum NPYExporter {
    /// Frames posed per sgemm when writing vertices (bounds the scratch memory).
    static let framesPerBatch = 64

    /// The `.npy` bytes for `animation`, posed on `mesh` when one is given; `progress`
    /// receives the share of the frames posed (0...1) after each batch.
    static func encode(_ animation: Animation, mesh: AnimationMesh?, progress: ((Double) throws -> Void)? = nil) throws -> [UInt8] {
        guard let mesh else {
            var out = header(shape: [animation.frameCount, animation.channelCount], reserving: animation.values.data.count * 4)
            out.append(floats: animation.values.data)
            return out.bytes
        }
        let (total, overflow) = animation.frameCount.multipliedReportingOverflow(by: mesh.floatsPerFrame * 4)
        guard !overflow, total < Int.max / 2 else {
            throw KMTError(.outOfMemory, "\(animation.frameCount) frames of \(mesh.vertexCount) vertices are too large for one array")
        }
        var out = header(shape: [animation.frameCount, mesh.vertexCount, 3], reserving: total)
        for start in stride(from: 0, to: animation.frameCount, by: framesPerBatch) {
            let end = min(start + framesPerBatch, animation.frameCount)
            out.append(floats: try mesh.vertices(of: animation, frames: start..<end, mode: .absolute))
            try progress?(Double(end) / Double(animation.frameCount))
        }
        return out.bytes
    }

    /// The magic, version and padded header of a C-order `<f4` array of `shape`, in a
    /// buffer with room for `dataBytes` more.
    static func header(shape: [Int], reserving dataBytes: Int = 0) -> ByteBuffer {
        let dimensions = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dictionary = "{'descr': '<f4', 'fortran_order': False, 'shape': \(dimensions), }"
        // magic (6) + version (2) + length (2) + dictionary + padding + '\n' = k * 64.
        let unpadded = 10 + dictionary.utf8.count + 1
        dictionary += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = ByteBuffer(capacity: 10 + dictionary.utf8.count + dataBytes)
        out.append(bytes: [0x93] + Array("NUMPY".utf8) + [1, 0])
        out.append(uint16: UInt16(dictionary.utf8.count))
        out.append(dictionary)
        return out
    }
}
