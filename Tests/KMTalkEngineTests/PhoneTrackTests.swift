import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// The recognized-phone track (`PhoneTrack`) and its TSV export (`KMT_EXPORT_PHONES_TSV`).
@Suite struct PhoneTrackTests {
    static let basePath = Fixtures.repositoryRoot.appendingPathComponent("models/kmtalk-base.safetensors").path

    @Test func runsOfTheMostLikelyPhoneBecomeSegments() {
        // 6 frames at 50 fps over phones [_, a, m]: _ _ a a(tie with m: the lower column) m _
        let posteriors = Tensor(shape: [6, 3], data: [
            0.9, 0.05, 0.05,
            0.7, 0.2, 0.1,
            0.1, 0.8, 0.1,
            0.1, 0.45, 0.45,
            0.0, 0.1, 0.9,
            0.6, 0.2, 0.2,
        ])
        let track = PhoneTrack(posteriors: posteriors, phones: ["_", "a", "m"], fps: 50)
        #expect(track.segments.map(\.phone) == ["_", "a", "m", "_"])
        #expect(track.segments.map(\.start) == [0, 0.04, 0.08, 0.1])
        #expect(track.segments.map(\.end) == [0.04, 0.08, 0.1, 0.12])
        #expect(abs(track.segments[0].confidence - 0.8) < 1e-6)
        #expect(abs(track.segments[1].confidence - 0.625) < 1e-6)
        #expect(PhoneTrack(posteriors: Tensor(shape: [0, 3], data: []), phones: ["_", "a", "m"], fps: 50).segments.isEmpty)
    }

    /// On the example clip the track is the argmax runs of the PyTorch model's phone
    /// posteriors (training/make_torch_goldens.py), and reads as the sentence's phones.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)))
    func shippedModelMatchesThePyTorchPosteriors() throws {
        let model = try KMTalkModel(path: Self.basePath)
        let session = Session(model: model, options: SessionOptions(threads: 1, outputFps: 60))
        let wav = Fixtures.repositoryRoot.appendingPathComponent("examples/audio/hello.wav").path
        let animation = try session.animate(path: wav)
        let track = try #require(animation.phones)
        let golden = try Fixtures.golden("base_torch_golden.safetensors")
        let reference = PhoneTrack(posteriors: try golden.tensor("phone_post"), phones: try #require(model.config.lkma?.phones), fps: 50)
        #expect(track.segments.map(\.phone) == reference.segments.map(\.phone))
        #expect(track.segments.map(\.start) == reference.segments.map(\.start))
        for (mine, theirs) in zip(track.segments, reference.segments) {
            #expect(abs(mine.confidence - theirs.confidence) < 1e-3)
        }
        // Contiguous from 0 to the native frame span, at rest before and after the speech.
        #expect(track.segments.first?.start == 0 && track.segments.first?.phone == "_" && track.segments.last?.phone == "_")
        #expect(zip(track.segments, track.segments.dropFirst()).allSatisfy { $0.end == $1.start && $0.phone != $1.phone })
        #expect(track.segments.map(\.end) == reference.segments.map(\.end))
        #expect(abs((track.segments.last?.end ?? 0) - Double(model.config.motion.fps == 50 ? 243 : 0) / 50) < 1e-9)
        // "hello ... KMTalk ... speech ...": the words' phones in order, each word within a
        // few recognised phones (a model may hear extra vowels: v3 hears the "a" of "talk"
        // flicker between ɑ and ɔ, "k eɪ ɛ m t ɑ ɔ ɑ ɔ ɑ ɒ k").
        let list = track.segments.map(\.phone)
        let phones = list.joined(separator: " ")
        #expect(phones.hasPrefix("_ h ə l oʊ _"), "\(phones)")
        #expect(Self.containsInOrder(list, ["k", "m", "t", "k"], within: 12), "KMTalk: \(phones)")
        #expect(Self.containsInOrder(list, ["s", "p", "i", "tʃ"], within: 6), "speech: \(phones)")
    }

    /// Whether `phones` holds `word` as an ordered subsequence spanning at most `within` phones.
    static func containsInOrder(_ phones: [String], _ word: [String], within: Int) -> Bool {
        for start in phones.indices where phones[start] == word[0] {
            var next = 1, index = start + 1
            while next < word.count, index < min(phones.count, start + within) {
                if phones[index] == word[next] { next += 1 }
                index += 1
            }
            if next == word.count { return true }
        }
        return false
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)))
    func tsvExportThroughTheCAPI() throws {
        var model: OpaquePointer?, session: OpaquePointer?, animation: OpaquePointer?
        #expect(kmt_model_load_file(Self.basePath, nil, &model) == KMT_OK)
        defer { kmt_model_free(model) }
        #expect(kmt_session_create(model, nil, &session) == KMT_OK)
        defer { kmt_session_free(session) }
        let wav = Fixtures.repositoryRoot.appendingPathComponent("examples/audio/hello.wav").path
        #expect(kmt_animate_file(session, wav, &animation) == KMT_OK)
        defer { kmt_animation_free(animation) }
        var size = 0
        #expect(kmt_animation_save_to_memory(animation, nil, KMT_EXPORT_PHONES_TSV, nil, 0, &size) == KMT_ERR_BUFFER_TOO_SMALL)
        var bytes = [UInt8](repeating: 0, count: size)
        #expect(kmt_animation_save_to_memory(animation, nil, KMT_EXPORT_PHONES_TSV, &bytes, size, &size) == KMT_OK)
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        #expect(lines.first == ["start", "end", "phone", "confidence"])
        var previousEnd = 0.0
        for fields in lines.dropFirst() {
            try #require(fields.count == 4)
            let start = try #require(Double(fields[0])), end = try #require(Double(fields[1]))
            let confidence = try #require(Double(fields[3]))
            #expect(start == previousEnd && end > start && !fields[2].isEmpty && confidence > 0 && confidence <= 1)
            previousEnd = end
        }
        #expect(lines.count > 40 && abs(previousEnd - 4.86) < 0.03, "\(lines.count) lines to \(previousEnd) s")
        // A .tsv path means the mouth cues; phones only by name.
        #expect(ExportFormat(path: "x.tsv") == .mouthCuesTSV)
    }

    @Test func modelsWithoutAPhoneHeadAreRefused() throws {
        let model = try KMTalkModel(path: Fixtures.tinyModelPath)  // kmtalk-direct
        let pcm = (0..<16_000).map { Float(sin(Double($0) * 0.05)) * 0.3 }
        let animation = try pcm.withUnsafeBufferPointer {
            try Session(model: model, options: SessionOptions(threads: 1)).animate(pcm: $0.baseAddress!, frameCount: pcm.count, sampleRate: 16_000, channels: 1)
        }
        #expect(animation.phones == nil)
        #expect {
            _ = try AnimationExporter.encode(animation, rig: nil, format: .phonesTSV)
        } throws: { error in
            (error as? KMTError)?.message.contains("no phone track") == true
        }
        // The tiny key-motion fixture has a phone head: it gets a track.
        let keyed = try KMTalkModel(path: Fixtures.path("kmtalk-tiny.safetensors"))
        let keyedAnimation = try pcm.withUnsafeBufferPointer {
            try Session(model: keyed, options: SessionOptions(threads: 1)).animate(pcm: $0.baseAddress!, frameCount: pcm.count, sampleRate: 16_000, channels: 1)
        }
        let track = try #require(keyedAnimation.phones)
        #expect(!track.segments.isEmpty && track.segments[0].start == 0)
    }
}
