import CKMTalk
import CSndFile
import Foundation
import Testing

@testable import KMTalkEngine

/// Damaged audio of every container: each outcome must be a clean error or finite
/// samples, never a crash.
@Suite struct AudioCorruptionTests {
    @Test(arguments: AudioDecoderTests.formats)
    func corruptedFilesFailCleanly(format: AudioDecoderTests.Format) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tone.\(format.fileExtension)").path
        try #require(AudioWriter.write(
            path: path, format: format.code, rate: format.rate, channels: 2,
            samples: AudioWriter.sine(frequency: 440, rate: format.rate, channels: 2, seconds: 0.5)))
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var generator = SeededGenerator(seed: UInt64(format.code))
        let damaged = directory.appendingPathComponent("damaged.\(format.fileExtension)").path
        var outcomes = (decoded: 0, rejected: 0)
        for trial in 0..<40 {
            var bytes = original
            switch trial % 4 {
            case 0:  // flip bytes in the header region
                for _ in 0..<4 { bytes[Int.random(in: 0..<min(bytes.count, 128), using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            case 1:  // flip bytes anywhere
                for _ in 0..<16 { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            case 2:  // cut the file short
                bytes = Array(bytes.prefix(Int.random(in: 1..<bytes.count, using: &generator)))
            default:  // overwrite a run with noise
                let start = Int.random(in: 0..<bytes.count, using: &generator)
                for i in start..<min(bytes.count, start + 512) { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
            }
            _ = FileManager.default.createFile(atPath: damaged, contents: Data(bytes))
            do {
                let decoded = try AudioDecoder.decode(path: damaged, targetRate: 16_000, nonfinitePolicy: .zero)
                #expect(decoded.samples.allSatisfy { $0.isFinite })
                outcomes.decoded += 1
            } catch let error as KMTError {
                #expect(error.message.hasPrefix(damaged), "\(error.message)")
                outcomes.rejected += 1
            }
        }
        #expect(outcomes.decoded + outcomes.rejected == 40)
    }

    @Test func randomBytesAreNotAudio() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SeededGenerator(seed: 7)
        for (index, size) in [1, 3, 44, 1000, 65_536].enumerated() {
            let path = directory.appendingPathComponent("noise\(index).wav").path
            _ = FileManager.default.createFile(
                atPath: path, contents: Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }))
            #expect(throws: KMTError.self) { try AudioDecoder.decode(path: path, targetRate: 16_000) }
        }
    }
}
