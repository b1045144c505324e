import Glibc

/// The geometry of one Wavefront OBJ file: `v` positions, `vt` texture coordinates and `f`
/// polygons with their corners' position and texture indices (0-based; negative OBJ
/// indices resolved). Other statements (`vn`, `o`, `g`, `s`, `usemtl`, `mtllib`, `l`, ...)
/// are skipped; `vn` and `l` are counted so callers can say so.
struct OBJMesh {
    /// x, y, z per `v` statement (extra w or colour values ignored).
    var positions: [Float] = []
    /// u, v per `vt` statement.
    var textureCoordinates: [Float] = []
    /// Position index of every polygon corner, polygons back to back.
    var cornerVertices: [Int32] = []
    /// Texture index of every corner, -1 where the corner has none.
    var cornerTextures: [Int32] = []
    /// Offset of each polygon's first corner in the corner arrays, plus a final end offset.
    var polygonStarts: [Int] = [0]
    /// Number of `vn` statements (normals are not imported).
    var normalCount = 0
    /// Number of `l` / `p` statements (not imported).
    var lineCount = 0

    /// Number of vertices (`v` statements).
    var vertexCount: Int { positions.count / 3 }
    /// Number of polygons.
    var polygonCount: Int { polygonStarts.count - 1 }

    /// Triangles from fanning every polygon from its first corner: F x 3 position indices.
    var fanTriangles: [Int32] {
        var triangles: [Int32] = []
        triangles.reserveCapacity(cornerVertices.count * 3)
        for polygon in 0..<polygonCount {
            let start = polygonStarts[polygon]
            let end = polygonStarts[polygon + 1]
            guard end - start >= 3 else { continue }
            for corner in (start + 1)..<(end - 1) {
                triangles += [cornerVertices[start], cornerVertices[corner], cornerVertices[corner + 1]]
            }
        }
        return triangles
    }

    /// Parses OBJ text. `source` names the file in errors (KMT_ERR_CORRUPT_RIG with the line
    /// number): a malformed number, an index of 0 or outside the vertices so far, a face
    /// with fewer than 3 corners, a mix of corners with and without texture indices in one
    /// face.
    init(bytes: [UInt8], source: String) throws {
        var text = bytes
        text.append(0)
        try text.withUnsafeBufferPointer { buffer in
            try parse(buffer, source: source)
        }
    }

    private mutating func parse(_ buffer: UnsafeBufferPointer<UInt8>, source: String) throws {
        let base = buffer.baseAddress!
        let end = buffer.count - 1
        var position = 0
        var line = 1
        func corrupt(_ detail: String) -> KMTError { .corruptRig("\(source):\(line): \(detail)") }
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }
        func skipBlanks() { while position < end, isBlank(base[position]) { position += 1 } }
        func atLineEnd() -> Bool { position >= end || base[position] == 0x0A || base[position] == UInt8(ascii: "#") }
        func skipLine() {
            while position < end, base[position] != 0x0A { position += 1 }
        }
        func number() throws -> Float {
            skipBlanks()
            guard !atLineEnd() else { throw corrupt("too few numbers") }
            let start = UnsafeMutableRawPointer(mutating: base + position).assumingMemoryBound(to: CChar.self)
            var stop: UnsafeMutablePointer<CChar>?
            let value = strtof(start, &stop)
            let consumed = stop.map { $0 - start } ?? 0
            guard consumed > 0, value.isFinite else { throw corrupt("malformed number") }
            position += consumed
            return value
        }
        /// An OBJ index at `position` (1-based or negative), resolved against `count`.
        func index(count: Int, kind: String) throws -> Int32 {
            var negative = false
            if position < end, base[position] == UInt8(ascii: "-") {
                negative = true
                position += 1
            }
            var value = 0
            var digits = 0
            while position < end, base[position] >= 0x30, base[position] <= 0x39 {
                value = value * 10 + Int(base[position] - 0x30)
                digits += 1
                position += 1
                guard value <= Int(Int32.max) else { throw corrupt("\(kind) index too large") }
            }
            guard digits > 0 else { throw corrupt("malformed \(kind) index") }
            let resolved = negative ? count - value : value - 1
            guard value != 0, resolved >= 0, resolved < count else {
                throw corrupt("\(kind) index \(negative ? -value : value) is out of range (\(count) defined so far)")
            }
            return Int32(resolved)
        }

        while position < end {
            skipBlanks()
            let keywordStart = position
            while position < end, !isBlank(base[position]), base[position] != 0x0A { position += 1 }
            let keyword = UnsafeBufferPointer(start: base + keywordStart, count: position - keywordStart)
            if keyword.elementsEqual("v".utf8) {
                positions.append(try number())
                positions.append(try number())
                positions.append(try number())
            } else if keyword.elementsEqual("vt".utf8) {
                textureCoordinates.append(try number())
                skipBlanks()
                textureCoordinates.append(atLineEnd() ? 0 : try number())
            } else if keyword.elementsEqual("f".utf8) {
                let vertexTotal = positions.count / 3
                let textureTotal = textureCoordinates.count / 2
                var corners = 0
                var withTexture = 0
                while true {
                    skipBlanks()
                    if atLineEnd() { break }
                    cornerVertices.append(try index(count: vertexTotal, kind: "vertex"))
                    var texture: Int32 = -1
                    if position < end, base[position] == UInt8(ascii: "/") {
                        position += 1
                        if position < end, base[position] != UInt8(ascii: "/"), !isBlank(base[position]), base[position] != 0x0A {
                            texture = try index(count: textureTotal, kind: "texture coordinate")
                            withTexture += 1
                        }
                        if position < end, base[position] == UInt8(ascii: "/") {
                            position += 1
                            while position < end, !isBlank(base[position]), base[position] != 0x0A { position += 1 }
                        }
                    }
                    guard position >= end || isBlank(base[position]) || base[position] == 0x0A else {
                        throw corrupt("malformed face corner")
                    }
                    cornerTextures.append(texture)
                    corners += 1
                }
                guard corners >= 3 else { throw corrupt("a face needs at least 3 corners, this one has \(corners)") }
                guard withTexture == 0 || withTexture == corners else {
                    throw corrupt("some corners of the face have texture coordinates and some do not")
                }
                polygonStarts.append(cornerVertices.count)
            } else if keyword.elementsEqual("vn".utf8) {
                normalCount += 1
            } else if keyword.elementsEqual("l".utf8) || keyword.elementsEqual("p".utf8) {
                lineCount += 1
            }
            skipLine()
            if position < end {
                position += 1
                line += 1
            }
        }
    }
}
