import Foundation
import Testing

@testable import KMTalkEngine

/// Mouth cues refined by the recognized phones (`PhoneCueRefiner`): H for laterals, G for
/// labiodentals, nothing else touched.
@Suite struct PhoneCueRefinerTests {
    static let basePath = Fixtures.repositoryRoot.appendingPathComponent("models/kmtalk-base.safetensors").path

    /// A track from per-frame phones at `fps` with one confidence for all.
    func track(_ phones: [String], fps: Double, confidence: Float = 0.9) -> PhoneTrack {
        let inventory = Array(Set(phones)).sorted()
        var data = [Float](repeating: (1 - confidence) / Float(max(1, inventory.count - 1)), count: phones.count * inventory.count)
        for (frame, phone) in phones.enumerated() { data[frame * inventory.count + inventory.firstIndex(of: phone)!] = confidence }
        return PhoneTrack(posteriors: Tensor(shape: [phones.count, inventory.count], data: data), phones: inventory, fps: fps)
    }

    @Test func lateralsBecomeHAndLabiodentalsG() {
        let phones = ["_", "l", "l", "l", "a", "f", "f", "m", "l", "v"]
        let shapes: [MouthShape] = [.x, .b, .c, .a, .d, .b, .x, .b, .e, .e]
        let refined = PhoneCueRefiner(track: track(phones, fps: 50)).refine(shapes, fps: 50)
        // l over B, C -> H; l over A stays a closure; f over B -> G, over X stays at rest;
        // m over B untouched; l over E -> H; v over E (rounded) stays E.
        #expect(refined == [.x, .h, .h, .a, .d, .g, .x, .b, .h, .e])
        // Unsure segments are left alone.
        let unsure = PhoneCueRefiner(track: track(phones, fps: 50, confidence: 0.4)).refine(shapes, fps: 50)
        #expect(unsure == shapes)
        // Frames at another rate are judged by the phone at their centre: 25 fps frame k spans
        // native frames 2k and 2k + 1, its centre lies on the start of 2k + 1.
        let half = PhoneCueRefiner(track: track(phones, fps: 50)).refine([.b, .b, .b, .b, .b], fps: 25)
        #expect(half == [.h, .h, .g, .b, .g])  // centres on native frames 1 (l), 3 (l), 5 (f), 7 (m), 9 (v)
    }

    /// On the example clip the "l" of "hello" (0.14-0.24 s) shows H.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: basePath)))
    func helloShowsTheTongueOnItsL() throws {
        let model = try KMTalkModel(path: Self.basePath)
        let wav = Fixtures.repositoryRoot.appendingPathComponent("examples/audio/hello.wav").path
        let animation = try Session(model: model, options: SessionOptions(threads: 1)).animate(path: wav)
        let cues = try MouthCues.track(for: animation).cues
        let atL = cues.filter { $0.start < 0.24 && $0.end > 0.14 }.map(\.shape)
        #expect(atL.contains(.h), "cues over the l: \(atL)")
    }
}
