import CKMTalk
import CSndFile
import Foundation
import Testing

@testable import KMTalkEngine

@Suite struct AudioDecoderTests {
    struct Format: Sendable, CustomTestStringConvertible {
        let name: String
        let fileExtension: String
        let code: Int32
        let rate: Int
        let lossless: Bool
        var testDescription: String { name }
    }

    static let formats: [Format] = [
        Format(name: "WAV int16", fileExtension: "wav", code: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), rate: 44_100, lossless: true),
        Format(name: "WAV int24", fileExtension: "wav", code: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_24), rate: 48_000, lossless: true),
        Format(name: "WAV int32", fileExtension: "wav", code: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_32), rate: 22_050, lossless: true),
        Format(name: "WAV float", fileExtension: "wav", code: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), rate: 16_000, lossless: true),
        Format(name: "WAV uint8", fileExtension: "wav", code: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_U8), rate: 8_000, lossless: false),
        Format(name: "FLAC", fileExtension: "flac", code: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16), rate: 44_100, lossless: true),
        Format(name: "AIFF", fileExtension: "aiff", code: Int32(SF_FORMAT_AIFF | SF_FORMAT_PCM_16), rate: 32_000, lossless: true),
        Format(name: "Ogg Vorbis", fileExtension: "ogg", code: Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS), rate: 44_100, lossless: false),
        Format(name: "Ogg Opus", fileExtension: "opus", code: Int32(SF_FORMAT_OGG | SF_FORMAT_OPUS), rate: 48_000, lossless: false),
        Format(name: "MP3", fileExtension: "mp3", code: Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III), rate: 44_100, lossless: false),
    ]

    @Test(arguments: formats)
    func decodesFormatToMono16k(format: Format) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tone.\(format.fileExtension)").path
        let written = AudioWriter.write(
            path: path, format: format.code, rate: format.rate, channels: 2,
            samples: AudioWriter.sine(frequency: 440, rate: format.rate, channels: 2, seconds: 1.5))
        try #require(written, "libsndfile cannot write \(format.name) on this system")
        let decoded = try AudioDecoder.decode(path: path, targetRate: 16_000)
        #expect(decoded.sampleRate == 16_000)
        #expect(decoded.sourceRate == format.rate)
        #expect(decoded.sourceChannels == 2)
        // Lossy codecs may add encoder padding; lengths stay within 0.1 s.
        #expect(abs(decoded.samples.count - 24_000) <= (format.lossless ? 1 : 1_600), "\(decoded.samples.count) samples")
        #expect(abs(estimatedFrequency(decoded.samples, rate: 16_000) - 440) < 3)
        let level = rms(decoded.samples[4_000..<20_000])
        #expect(abs(level - Float(0.5 / 2.0.squareRoot())) < 0.02, "rms \(level)")
        if format.lossless {
            // Sample-exact against the ideal sine: soxr compensates its own delay.
            var worst: Float = 0
            for n in 2_000..<22_000 {
                let ideal = Float(0.5 * sin(2 * Double.pi * 440 * Double(n) / 16_000))
                worst = max(worst, abs(decoded.samples[n] - ideal))
            }
            #expect(worst < 2e-3, "max error \(worst)")
        }
    }

    @Test(arguments: [8_000, 11_025, 16_000, 22_050, 44_100, 48_000, 96_000, 192_000])
    func resamplesAnyRate(rate: Int) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tone.wav").path
        #expect(AudioWriter.write(
            path: path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), rate: rate, channels: 1,
            samples: AudioWriter.sine(frequency: 1000, rate: rate, channels: 1, seconds: 1)))
        let decoded = try AudioDecoder.decode(path: path, targetRate: 16_000)
        #expect(abs(decoded.samples.count - 16_000) <= 1)
        #expect(abs(estimatedFrequency(decoded.samples, rate: 16_000) - 1000) < 3)
        #expect(abs(rms(decoded.samples[2_000..<14_000]) - 0.3536) < 0.005)
    }

    @Test(arguments: [1, 2, 3, 6, 8])
    func mixesAnyChannelCountToMono(channels: Int) throws {
        let samples = AudioWriter.sine(frequency: 300, rate: 16_000, channels: channels, seconds: 0.5)
        let mono = try samples.withUnsafeBufferPointer {
            try AudioDecoder.convert(samples: $0.baseAddress!, frameCount: 8_000, sampleRate: 16_000, channels: channels, targetRate: 16_000)
        }
        #expect(mono.count == 8_000)
        for n in stride(from: 0, to: 8_000, by: 97) {
            #expect(abs(mono[n] - Float(0.5 * sin(2 * Double.pi * 300 * Double(n) / 16_000))) < 1e-5)
        }
    }

    func expectFailure(
        _ path: String, _ status: kmt_status, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try AudioDecoder.decode(path: path, targetRate: 16_000)
            Issue.record("decoded \(path)", sourceLocation: sourceLocation)
        } catch let error as KMTError {
            #expect(error.status == status, "status \(error.status) for: \(error.message)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", sourceLocation: sourceLocation)
            #expect(error.message.hasPrefix(path), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func reportsMissingEmptyAndUnsupportedFiles() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        expectFailure(directory.appendingPathComponent("missing.wav").path, KMT_ERR_IO, "No such file")
        expectFailure(directory.path, KMT_ERR_IO, "is a directory")
        let empty = directory.appendingPathComponent("empty.wav").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        expectFailure(empty, KMT_ERR_INVALID_AUDIO, "empty file")
        let text = directory.appendingPathComponent("notes.wav").path
        _ = FileManager.default.createFile(atPath: text, contents: Data("these are not samples\n".utf8))
        expectFailure(text, KMT_ERR_UNSUPPORTED_FORMAT, "not a supported audio format")
    }

    @Test func reportsCorruptAndTruncatedFiles() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let wav = directory.appendingPathComponent("tone.wav").path
        AudioWriter.write(path: wav, format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), rate: 16_000, channels: 1,
                          samples: AudioWriter.sine(frequency: 440, rate: 16_000, channels: 1, seconds: 1))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: wav))
        // Header only: a WAV whose data chunk was cut off entirely.
        let headerOnly = directory.appendingPathComponent("header-only.wav").path
        _ = FileManager.default.createFile(atPath: headerOnly, contents: bytes.prefix(44))
        expectFailure(headerOnly, KMT_ERR_INVALID_AUDIO, "no audio frames")
        // Cut inside the RIFF header.
        let cut = directory.appendingPathComponent("cut.wav").path
        _ = FileManager.default.createFile(atPath: cut, contents: bytes.prefix(20))
        do {
            _ = try AudioDecoder.decode(path: cut, targetRate: 16_000)
            Issue.record("decoded a 20-byte WAV")
        } catch let error as KMTError {
            #expect([KMT_ERR_INVALID_AUDIO, KMT_ERR_UNSUPPORTED_FORMAT].contains(error.status))
        }
        // A data chunk cut short: the header declares 16000 frames, 4000 are there.
        let truncated = directory.appendingPathComponent("truncated.wav").path
        _ = FileManager.default.createFile(atPath: truncated, contents: bytes.prefix(44 + 8_000))
        expectFailure(truncated, KMT_ERR_INVALID_AUDIO, "truncated: the header declares 16000 frames, the file holds 4000")
        // A streaming writer's WAV with an unknown (0xFFFFFFFF) data size is not truncated.
        var streamed = [UInt8](bytes)
        for i in 40..<44 { streamed[i] = 0xFF }
        let unknownSize = directory.appendingPathComponent("streamed.wav").path
        _ = FileManager.default.createFile(atPath: unknownSize, contents: Data(streamed))
        #expect(try AudioDecoder.decode(path: unknownSize, targetRate: 16_000).samples.count == 16_000)
        // FLAC with its frames overwritten by garbage.
        let flac = directory.appendingPathComponent("tone.flac").path
        #expect(AudioWriter.write(path: flac, format: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16), rate: 16_000, channels: 1,
                          samples: AudioWriter.sine(frequency: 440, rate: 16_000, channels: 1, seconds: 1)))
        var flacBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: flac)))
        try #require(flacBytes.count > 1_000, "FLAC writer produced \(flacBytes.count) bytes")
        for i in 200..<flacBytes.count { flacBytes[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        let garbage = directory.appendingPathComponent("garbage.flac").path
        _ = FileManager.default.createFile(atPath: garbage, contents: Data(flacBytes))
        do {
            let result = try AudioDecoder.decode(path: garbage, targetRate: 16_000)
            // libsndfile may skip undecodable frames; whatever comes back must be finite.
            #expect(result.samples.allSatisfy { $0.isFinite })
        } catch let error as KMTError {
            let status = error.status
            #expect(status == KMT_ERR_INVALID_AUDIO, "\(error.message)")
        }
    }

    @Test func rejectsRatesOutsideTheSupportedRange() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for rate in [4_000, 384_000] {
            let path = directory.appendingPathComponent("rate\(rate).wav").path
            #expect(AudioWriter.write(path: path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), rate: rate, channels: 1,
                                      samples: [Float](repeating: 0.1, count: 1000)))
            expectFailure(path, KMT_ERR_INVALID_AUDIO, "outside the supported 8000..192000 Hz")
        }
    }

    @Test func nonFiniteSamplesAreRejectedOrZeroed() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var samples = AudioWriter.sine(frequency: 440, rate: 16_000, channels: 1, seconds: 0.5)
        samples[1234] = .nan
        samples[2000] = .infinity
        samples[3000] = 3e38
        let path = directory.appendingPathComponent("nan.wav").path
        var info = SF_INFO()
        info.samplerate = 16_000
        info.channels = 1
        info.format = Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT)
        let file = try #require(sf_open(path, Int32(SFM_WRITE), &info))
        _ = samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(samples.count)) }
        sf_close(file)
        expectFailure(path, KMT_ERR_INVALID_AUDIO, "non-finite sample (nan) at frame 1234")
        let zeroed = try AudioDecoder.decode(path: path, targetRate: 16_000, nonfinitePolicy: .zero)
        #expect(zeroed.samples.count == 8_000)
        #expect(zeroed.samples[1234] == 0)
        #expect(zeroed.samples[3000] == 0)
        #expect(zeroed.samples.allSatisfy { $0.isFinite })
    }
}
