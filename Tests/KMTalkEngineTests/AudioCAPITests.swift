import CKMTalk
import CSndFile
import Foundation
import Testing

@testable import KMTalkEngine

/// The audio decoding calls of the C API (kmt_audio_*): the samples the offline path
/// feeds the network, rate conversion, mixdown, memory input, progress and every error.
@Suite struct AudioCAPITests {
    var lastError: String { String(cString: kmt_last_error()) }

    /// Params with `sampleRate` (0: the file's own) and `policy`.
    func params(sampleRate: Int32 = 0, policy: kmt_nonfinite_policy = KMT_NONFINITE_REJECT) -> kmt_audio_params {
        var p = kmt_audio_params()
        #expect(kmt_audio_params_init(&p, MemoryLayout<kmt_audio_params>.size) == KMT_OK)
        p.sample_rate = sampleRate
        p.nonfinite_policy = policy
        return p
    }

    /// Loads `path` with `p`, requiring success.
    func load(_ path: String, _ p: kmt_audio_params?, sourceLocation: SourceLocation = #_sourceLocation) throws -> OpaquePointer {
        var audio: OpaquePointer?
        var copy = p ?? kmt_audio_params()
        let status = p == nil ? kmt_audio_load_file(path, nil, &audio) : kmt_audio_load_file(path, &copy, &audio)
        #expect(status == KMT_OK, "\(lastError)", sourceLocation: sourceLocation)
        return try #require(audio, sourceLocation: sourceLocation)
    }

    /// The samples of a handle as an array.
    func samples(_ audio: OpaquePointer) -> [Float] {
        Array(UnsafeBufferPointer(start: got(nil) { kmt_audio_samples(audio, $0) }, count: got(0) { kmt_audio_sample_count(audio, $0) }))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let fileExtension: String
        let format: Int32
        let rate: Int
        let channels: Int
        let formatPrefix: String
        var testDescription: String { name }
    }

    static let cases = [
        Case(name: "WAV int16 stereo 44.1 kHz", fileExtension: "wav", format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), rate: 44_100, channels: 2, formatPrefix: "WAV"),
        Case(name: "FLAC stereo 48 kHz", fileExtension: "flac", format: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16), rate: 48_000, channels: 2, formatPrefix: "FLAC"),
        Case(name: "Ogg Vorbis mono 22.05 kHz", fileExtension: "ogg", format: Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS), rate: 22_050, channels: 1, formatPrefix: "OGG"),
    ]

    @Test(arguments: cases)
    func decodesWhatTheOfflinePathFeedsTheNetwork(c: Case) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tone.\(c.fileExtension)").path
        let written = AudioWriter.write(
            path: path, format: c.format, rate: c.rate, channels: c.channels,
            samples: AudioWriter.sine(frequency: 440, rate: c.rate, channels: c.channels, seconds: 1.2))
        try #require(written, "libsndfile cannot write \(c.name) here")
        // The offline path (kmt_animate_file) decodes with AudioDecoder at the model's rate.
        let offline = try AudioDecoder.decode(path: path, targetRate: 16_000)
        let audio = try load(path, params(sampleRate: 16_000))
        defer { kmt_audio_free(audio) }
        #expect(samples(audio) == offline.samples)
        #expect(got(0) { kmt_audio_sample_rate(audio, $0) } == 16_000)
        #expect(got(0) { kmt_audio_source_rate(audio, $0) } == Int32(c.rate))
        #expect(got(0) { kmt_audio_source_channels(audio, $0) } == Int32(c.channels))
        let name = try #require(gotString { kmt_audio_format_name(audio, $0) })
        #expect(name == offline.formatName)
        #expect(name.hasPrefix(c.formatPrefix), "\(name)")
        // The same bytes from memory give the same samples.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var p = params(sampleRate: 16_000)
        var fromMemory: OpaquePointer?
        #expect(kmt_audio_load_memory(bytes, bytes.count, &p, &fromMemory) == KMT_OK, "\(lastError)")
        let memory = try #require(fromMemory)
        defer { kmt_audio_free(memory) }
        #expect(samples(memory) == offline.samples)
        #expect(gotString { kmt_audio_format_name(memory, $0) } == name)
    }

    @Test func keepsTheFilesOwnRateAndMixesStereoDown() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Float WAV: what was written comes back exactly, the channels averaged.
        var stereo = [Float](repeating: 0, count: 2 * 4_410)
        for i in 0..<4_410 {
            stereo[2 * i] = Float(i % 100) / 200
            stereo[2 * i + 1] = -Float(i % 37) / 100
        }
        let path = directory.appendingPathComponent("stereo.wav").path
        #expect(AudioWriter.write(path: path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), rate: 44_100, channels: 2, samples: stereo))
        let audio = try load(path, nil)
        defer { kmt_audio_free(audio) }
        #expect(got(0) { kmt_audio_sample_rate(audio, $0) } == 44_100)
        #expect(got(0) { kmt_audio_source_rate(audio, $0) } == 44_100)
        #expect(got(0) { kmt_audio_source_channels(audio, $0) } == 2)
        let mono = samples(audio)
        #expect(mono.count == 4_410)
        var worst: Float = 0
        for i in 0..<4_410 {
            let mean: Float = (stereo[2 * i] + stereo[2 * i + 1]) * 0.5
            worst = max(worst, abs(mono[i] - mean))
        }
        #expect(worst <= 1e-7, "max difference \(worst)")
        #expect(gotString { kmt_audio_format_name(audio, $0) } == "WAV (Microsoft) / 32 bit float")
    }

    @Test(arguments: [(44_100, 16_000), (16_000, 48_000), (8_000, 22_050)])
    func convertsTheRate(from: Int, to: Int) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tone.wav").path
        #expect(AudioWriter.write(
            path: path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), rate: from, channels: 1,
            samples: AudioWriter.sine(frequency: 500, rate: from, channels: 1, seconds: 1)))
        let audio = try load(path, params(sampleRate: Int32(to)))
        defer { kmt_audio_free(audio) }
        let mono = samples(audio)
        #expect(got(0) { kmt_audio_sample_rate(audio, $0) } == Int32(to))
        #expect(got(0) { kmt_audio_source_rate(audio, $0) } == Int32(from))
        #expect(abs(mono.count - to) <= 1, "\(mono.count) samples")
        #expect(abs(estimatedFrequency(mono, rate: to) - 500) < 3)
        #expect(abs(rms(mono[(to / 8)..<(7 * to / 8)]) - Float(0.5 / 2.0.squareRoot())) < 0.005)
    }

    /// Loads `path` (or, with `memory`, these bytes) expecting `status` and a message
    /// containing `fragment`; the out-parameter must come back NULL.
    func expectFailure(
        _ path: String?, memory: [UInt8]? = nil, params p: kmt_audio_params? = nil, _ status: kmt_status, _ fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var audio: OpaquePointer? = OpaquePointer(bitPattern: 0x1)
        var copy = p ?? kmt_audio_params()
        let got: kmt_status
        if let memory {
            got = memory.withUnsafeBytes { bytes in
                p == nil ? kmt_audio_load_memory(bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 0x10), bytes.count, nil, &audio)
                    : kmt_audio_load_memory(bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 0x10), bytes.count, &copy, &audio)
            }
        } else {
            got = p == nil ? kmt_audio_load_file(path, nil, &audio) : kmt_audio_load_file(path, &copy, &audio)
        }
        #expect(got == status, "status \(got.rawValue): \(lastError)", sourceLocation: sourceLocation)
        #expect(lastError.contains(fragment), "'\(lastError)' lacks '\(fragment)'", sourceLocation: sourceLocation)
        #expect(audio == nil, sourceLocation: sourceLocation)
    }

    @Test func reportsBadFilesAsTheAnimateCallsDo() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func file(_ name: String, _ bytes: [UInt8]) -> String {
            let path = directory.appendingPathComponent(name).path
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            return path
        }
        expectFailure(nil, KMT_ERR_INVALID_ARGUMENT, "path is NULL")
        expectFailure("", KMT_ERR_INVALID_ARGUMENT, "path is empty")
        expectFailure(directory.appendingPathComponent("missing.wav").path, KMT_ERR_IO, "No such file")
        expectFailure(directory.path, KMT_ERR_IO, "is a directory")
        expectFailure(file("empty.wav", []), KMT_ERR_INVALID_AUDIO, "empty file")
        expectFailure(file("notes.wav", Array("these are not samples\n".utf8)), KMT_ERR_UNSUPPORTED_FORMAT, "not a supported audio format")
        expectFailure(file("clip.m4a", [0, 0, 0, 0x20] + Array("ftypM4A ".utf8) + [UInt8](repeating: 0, count: 64)),
                      KMT_ERR_UNSUPPORTED_FORMAT, "ffmpeg")
        let wav = directory.appendingPathComponent("tone.wav").path
        AudioWriter.write(path: wav, format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), rate: 16_000, channels: 1,
                          samples: AudioWriter.sine(frequency: 440, rate: 16_000, channels: 1, seconds: 1))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: wav)))
        expectFailure(file("header-only.wav", Array(bytes.prefix(44))), KMT_ERR_INVALID_AUDIO, "no audio frames")
        expectFailure(file("truncated.wav", Array(bytes.prefix(44 + 8_000))), KMT_ERR_INVALID_AUDIO,
                      "truncated: the header declares 16000 frames, the file holds 4000")
        // The same from memory, named "audio in memory".
        expectFailure(nil, memory: [], KMT_ERR_INVALID_AUDIO, "audio in memory: empty buffer")
        expectFailure(nil, memory: Array("these are not samples\n".utf8), KMT_ERR_UNSUPPORTED_FORMAT, "audio in memory: not a supported audio format")
        expectFailure(nil, memory: Array(bytes.prefix(44 + 8_000)), KMT_ERR_INVALID_AUDIO, "audio in memory: truncated")
        var audio: OpaquePointer?
        #expect(kmt_audio_load_memory(nil, 10, nil, &audio) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("data is NULL"))
        // NULL out-parameters are refused, never written.
        #expect(kmt_audio_load_file(wav, nil, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("out_audio is NULL"))
        #expect(kmt_audio_load_memory(bytes, bytes.count, nil, nil) == KMT_ERR_INVALID_ARGUMENT)
    }

    @Test func refusesBadParams() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let wav = directory.appendingPathComponent("tone.wav").path
        AudioWriter.write(path: wav, format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), rate: 16_000, channels: 1,
                          samples: AudioWriter.sine(frequency: 440, rate: 16_000, channels: 1, seconds: 0.1))
        for rate: Int32 in [-1, 7_999, 192_001] {
            expectFailure(wav, params: params(sampleRate: rate), KMT_ERR_INVALID_ARGUMENT, "sample_rate")
        }
        expectFailure(wav, params: params(policy: kmt_nonfinite_policy(rawValue: 7)), KMT_ERR_INVALID_ARGUMENT, "nonfinite_policy")
        var tooSmall = params()
        tooSmall.struct_size = 4
        expectFailure(wav, params: tooSmall, KMT_ERR_INVALID_ARGUMENT, "struct_size")
        var splitPointer = params()
        splitPointer.struct_size = 20
        expectFailure(wav, params: splitPointer, KMT_ERR_INVALID_ARGUMENT, "ends inside the pointer field")
        // An older caller's struct without the progress fields is read as far as it goes.
        var old = params(sampleRate: 8_000)
        old.struct_size = 16
        let audio = try load(wav, old)
        #expect(got(0) { kmt_audio_sample_rate(audio, $0) } == 8_000)
        kmt_audio_free(audio)
        // _init writes the defaults and only the caller's bytes.
        var raw = [UInt8](repeating: 0xAB, count: 48)
        let status = raw.withUnsafeMutableBytes { kmt_audio_params_init($0.baseAddress!.assumingMemoryBound(to: kmt_audio_params.self), 40) }
        #expect(status == KMT_OK)
        #expect(raw[0] == 40 && raw[8..<40].allSatisfy { $0 == 0 } && raw[40..<48].allSatisfy { $0 == 0xAB })
        #expect(kmt_audio_params_init(nil, 32) == KMT_ERR_INVALID_ARGUMENT)
    }

    @Test func nonFiniteSamplesFollowThePolicy() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var samples = AudioWriter.sine(frequency: 440, rate: 16_000, channels: 1, seconds: 0.5)
        samples[1234] = .nan
        samples[3000] = 3e38
        let path = directory.appendingPathComponent("nan.wav").path
        #expect(AudioWriter.write(path: path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), rate: 16_000, channels: 1, samples: samples))
        expectFailure(path, KMT_ERR_INVALID_AUDIO, "non-finite sample (nan) at frame 1234")
        let audio = try load(path, params(policy: KMT_NONFINITE_ZERO))
        defer { kmt_audio_free(audio) }
        let mono = self.samples(audio)
        #expect(mono.count == 8_000 && mono[1234] == 0 && mono[3000] == 0 && mono.allSatisfy { $0.isFinite })
        #expect(mono == (try AudioDecoder.decode(path: path, targetRate: nil, nonfinitePolicy: .zero)).samples)
    }

    /// Records a host's progress reports; cancels once the fraction reaches `cancelAt`.
    final class Reports {
        var fractions: [Float] = []
        var stages: [String] = []
        let cancelAt: Float?
        init(cancelAt: Float? = nil) { self.cancelAt = cancelAt }
        static let callback: kmt_progress_callback = { fraction, stage, userData in
            let reports = Unmanaged<Reports>.fromOpaque(userData!).takeUnretainedValue()
            reports.fractions.append(fraction)
            reports.stages.append(String(cString: stage!))
            return reports.cancelAt.map { fraction >= $0 ? 1 : 0 } ?? 0
        }
    }

    @Test func reportsProgressAndCancels() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("long.wav").path
        #expect(AudioWriter.write(
            path: path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), rate: 16_000, channels: 1,
            samples: AudioWriter.sine(frequency: 200, rate: 16_000, channels: 1, seconds: 20)))
        let reports = Reports()
        var p = params()
        p.progress = Reports.callback
        p.progress_user_data = Unmanaged.passUnretained(reports).toOpaque()
        let audio = try withExtendedLifetime(reports) { try load(path, p) }
        kmt_audio_free(audio)
        #expect(reports.stages.allSatisfy { $0 == "decode" })
        #expect(reports.fractions.first == 0 && reports.fractions.last == 1)
        #expect(reports.fractions.filter { $0 == 1 }.count == 1)
        #expect(zip(reports.fractions, reports.fractions.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(reports.fractions.count > 5, "\(reports.fractions)")
        let cancelling = Reports(cancelAt: 0.3)
        p.progress_user_data = Unmanaged.passUnretained(cancelling).toOpaque()
        withExtendedLifetime(cancelling) { expectFailure(path, params: p, KMT_ERR_CANCELLED, "cancelled") }
        #expect(cancelling.fractions.last.map { $0 >= 0.3 && $0 < 1 } == true)
    }

    @Test func freeAcceptsNullAndAccessorsRefuseIt() {
        kmt_audio_free(nil)
        // Every accessor's NULL audio and NULL out-parameter: CAPIGetterTests.
        var rate: Int32 = 7
        #expect(kmt_audio_sample_rate(nil, &rate) == KMT_ERR_INVALID_ARGUMENT)
        #expect(rate == 0 && lastError == "audio is NULL")
    }
}
