import CZlib
import Testing

@testable import kmtalk

/// Decodes the PNGs `PNGEncoder` writes (8-bit RGB, not interlaced) back to pixels, with
/// zlib's inflate and the five PNG filters undone; checks every chunk's CRC.
enum PNGDecoder {
    struct Image: Equatable {
        var width: Int
        var height: Int
        var rgb: [UInt8]
    }

    static func decode(_ file: [UInt8]) -> Image? {
        guard file.count >= 8, Array(file[0..<8]) == PNGEncoder.signature else { return nil }
        var offset = 8
        var width = 0, height = 0
        var compressed: [UInt8] = []
        func word(_ at: Int) -> Int { Int(file[at]) << 24 | Int(file[at + 1]) << 16 | Int(file[at + 2]) << 8 | Int(file[at + 3]) }
        while offset + 12 <= file.count {
            let length = word(offset)
            let type = String(decoding: file[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard offset + 12 + length <= file.count else { return nil }
            let data = Array(file[(offset + 8)..<(offset + 8 + length)])
            var crc = crc32(0, nil, 0)
            let typed = Array(file[(offset + 4)..<(offset + 8 + length)])
            crc = typed.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
            guard UInt32(truncatingIfNeeded: crc) == UInt32(word(offset + 8 + length)) else { return nil }
            switch type {
            case "IHDR":
                width = word(offset + 8)
                height = word(offset + 12)
                guard data[8] == 8, data[9] == 2, data[12] == 0 else { return nil }
            case "IDAT": compressed += data
            default: break
            }
            offset += 12 + length
        }
        let stride = width * 3
        var raw = [UInt8](repeating: 0, count: (stride + 1) * height)
        var rawLength = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { uncompress(out.baseAddress, &rawLength, $0.baseAddress, uLong($0.count)) }
        }
        guard status == Z_OK, Int(rawLength) == raw.count else { return nil }
        var rgb = [UInt8](repeating: 0, count: stride * height)
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            for i in 0..<stride {
                let x = raw[row * (stride + 1) + 1 + i]
                let a: UInt8 = i >= 3 ? rgb[row * stride + i - 3] : 0
                let b: UInt8 = row > 0 ? rgb[(row - 1) * stride + i] : 0
                let c: UInt8 = (row > 0 && i >= 3) ? rgb[(row - 1) * stride + i - 3] : 0
                let predictor: UInt8
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = UInt8((Int(a) + Int(b)) / 2)
                case 4: predictor = PNGEncoder.paeth(a, b, c)
                default: return nil
                }
                rgb[row * stride + i] = x &+ predictor
            }
        }
        return Image(width: width, height: height, rgb: rgb)
    }
}

@Suite struct PNGEncoderTests {
    @Test func roundTripsNoiseGradientsAndFlatAreas() throws {
        let width = 37, height = 23
        var state: UInt32 = 12345
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                state = state &* 1_664_525 &+ 1_013_904_223
                let pixel = 3 * (y * width + x)
                rgb[pixel] = y < 8 ? UInt8(truncatingIfNeeded: state >> 24) : UInt8(x * 6)  // noise, then gradients
                rgb[pixel + 1] = UInt8(y * 10)
                rgb[pixel + 2] = x > 30 ? 200 : UInt8(truncatingIfNeeded: x * y)
            }
        }
        let png = try #require(PNGEncoder.encode(rgb: rgb, width: width, height: height))
        let decoded = try #require(PNGDecoder.decode(png))
        #expect(decoded == PNGDecoder.Image(width: width, height: height, rgb: rgb))
    }

    @Test func flatImagesCompress() throws {
        let rgb = [UInt8](repeating: 40, count: 512 * 512 * 3)
        let png = try #require(PNGEncoder.encode(rgb: rgb, width: 512, height: 512))
        #expect(png.count < 8000, "\(png.count) bytes, from 786,432 raw")
        let decoded = try #require(PNGDecoder.decode(png))
        #expect(decoded.rgb == rgb)
    }

    @Test func refusesMismatchedSizes() {
        #expect(PNGEncoder.encode(rgb: [0, 0, 0], width: 2, height: 1) == nil)
        #expect(PNGEncoder.encode(rgb: [], width: 0, height: 0) == nil)
    }
}
