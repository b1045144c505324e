import CZlib

/// Encodes 8-bit RGB images as PNG: signature, IHDR, one IDAT compressed with the system
/// zlib (each row filtered with whichever of the five PNG filters gives the smallest sum of
/// absolute bytes, libpng's heuristic), IEND; chunk CRCs from zlib's crc32.
enum PNGEncoder {
    /// The PNG file signature.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A PNG of `width` x `height` pixels from `rgb` (3 bytes per pixel, rows top to
    /// bottom). nil when the sizes disagree or zlib fails.
    static func encode(rgb: [UInt8], width: Int, height: Int, level: Int32 = 3) -> [UInt8]? {
        guard width > 0, height > 0, rgb.count == width * height * 3 else { return nil }
        let filtered = filterRows(rgb, width: width, height: height)
        var compressedSize = compressBound(uLong(filtered.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let status = compressed.withUnsafeMutableBufferPointer { out in
            filtered.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &compressedSize, input.baseAddress, uLong(input.count), level)
            }
        }
        guard status == Z_OK else { return nil }
        compressed.removeLast(compressed.count - Int(compressedSize))

        var header: [UInt8] = []
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // 8 bits, truecolour RGB, deflate, adaptive filtering, no interlace
        var file = signature
        file += chunk("IHDR", header)
        file += chunk("IDAT", compressed)
        file += chunk("IEND", [])
        return file
    }

    /// Each row prefixed with its filter type and filtered (bytes per pixel 3).
    static func filterRows(_ rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        let stride = width * 3
        var output = [UInt8](repeating: 0, count: (stride + 1) * height)
        var candidate = [UInt8](repeating: 0, count: stride)
        var best = [UInt8](repeating: 0, count: stride)
        rgb.withUnsafeBufferPointer { image in
            for row in 0..<height {
                let current = row * stride
                let previous = (row - 1) * stride
                var bestType: UInt8 = 0
                var bestCost = Int.max
                for type in UInt8(0)...4 {
                    var cost = 0
                    for i in 0..<stride {
                        let x = image[current + i]
                        let a: UInt8 = i >= 3 ? image[current + i - 3] : 0
                        let b: UInt8 = row > 0 ? image[previous + i] : 0
                        let c: UInt8 = (row > 0 && i >= 3) ? image[previous + i - 3] : 0
                        let predictor: UInt8
                        switch type {
                        case 0: predictor = 0
                        case 1: predictor = a
                        case 2: predictor = b
                        case 3: predictor = UInt8((Int(a) + Int(b)) / 2)
                        default: predictor = paeth(a, b, c)
                        }
                        let value = x &- predictor
                        candidate[i] = value
                        cost += value < 128 ? Int(value) : 256 - Int(value)
                    }
                    if cost < bestCost {
                        bestCost = cost
                        bestType = type
                        swap(&best, &candidate)
                    }
                }
                let start = row * (stride + 1)
                output[start] = bestType
                for i in 0..<stride { output[start + 1 + i] = best[i] }
            }
        }
        return output
    }

    /// The Paeth predictor of the PNG specification.
    static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    /// A chunk: length, type, data, CRC-32 of type and data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        var crc = crc32(0, nil, 0)
        crc = typeBytes.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        if !data.isEmpty {  // zlib's crc32 restarts at 0 when handed a null pointer
            crc = data.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        }
        return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(UInt32(truncatingIfNeeded: crc))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
