import CKMTalk
import Foundation
@testable import KMTalkEngine
import Testing

@testable import kmtalk

/// `kmtalk view`'s page builder: the sparse int16 targets, the WAV it embeds, the GLB read
/// back into the mesh and per-channel targets (checked against the engine's own rig), the
/// page's data block and the command's errors. The page itself is loaded in headless
/// Chromium by scripts/test-web-viewer.sh.
@Suite struct WebViewerTests {
    @Test func sparseTargetsKeepTheMovedVerticesWithinHalfAStep() throws {
        var dense = [Float](repeating: 0, count: 5 * 3)
        dense[3 * 1 + 1] = -0.02
        dense[3 * 3] = 0.0071
        dense[3 * 3 + 2] = 1e-9  // below half a step: rounds to 0, the vertex still moves in x
        dense[3 * 4 + 2] = 1e-9  // only a sub-step delta: left out
        let target = try #require(SparseMorphTarget(channel: 7, deltas: dense))
        #expect(target.channel == 7 && target.vertices == [1, 3] && target.deltas.count == 6)
        #expect(abs(target.scale - 0.02 / 32767) < 1e-12)
        let back = target.expanded(vertexCount: 5)
        for k in dense.indices { #expect(abs(back[k] - dense[k]) <= target.scale / 2 + 1e-9) }
        #expect(SparseMorphTarget(channel: 0, deltas: [0, 0, 0]) == nil)
    }

    @Test func theEmbeddedWAVDecodesBackThroughTheLibrary() throws {
        let samples: [Float] = (0..<800).map { Float(sin(Double($0) * 0.05)) * 0.8 } + [1.5, -2, .nan]
        let bytes = samples.withUnsafeBufferPointer { WAVEncoder.encode($0, sampleRate: 22050) }
        #expect(bytes.count == 44 + 2 * samples.count && Array(bytes[0..<4]) == Array("RIFF".utf8))
        var audio: OpaquePointer?
        try #require(kmt_audio_load_memory(bytes, bytes.count, nil, &audio) == KMT_OK)
        defer { kmt_audio_free(audio) }
        var rate: Int32 = 0, count = 0
        var start: UnsafePointer<Float>?
        #expect(kmt_audio_sample_rate(audio, &rate) == KMT_OK && kmt_audio_sample_count(audio, &count) == KMT_OK)
        #expect(rate == 22050 && count == samples.count)
        try #require(kmt_audio_samples(audio, &start) == KMT_OK && start != nil)
        let decoded = UnsafeBufferPointer(start: start, count: samples.count)
        // Half a step of rounding, and libsndfile reads int16 as n / 32768 (written n / 32767).
        let worst = (0..<800).map { abs(decoded[$0] - samples[$0]) }.max() ?? 1
        #expect(worst <= 1.5 / 32767, "\(worst)")
        #expect(decoded[800] > 0.999 && decoded[801] < -0.999 && decoded[802] == 0, "clipped, NaN as silence")
    }

    @Test func textInTheDataBlockCannotCloseTheScript() {
        let text = WebViewerPage.jsonString("a \"b\"\\</script><!--\n\u{1}")
        #expect(!text.contains("<") && !text.contains(">"))
        let parsed = try? JSONSerialization.jsonObject(with: Data("[\(text)]".utf8)) as? [String]
        #expect(parsed == ["a \"b\"\\</script><!--\n\u{1}"])
        #expect(WebViewerPage.escape("<b>&\"") == "&lt;b&gt;&amp;&quot;")
    }

    /// The tiny model animating a buzz, the scene on the shipped head and its page.
    static func scene(seconds: Double = 1.5) throws -> (WebViewerScene, AnimationHandle, RigHandle, URL) {
        let directory = try PreviewTests.temporaryDirectory()
        let wav = directory.appendingPathComponent("buzz.wav").path
        try PreviewTests.writeSpeechLikeWAV(wav, seconds: seconds)
        let model = try ModelHandle(path: PreviewTests.tinyModel)
        let session = try SessionHandle(model: model, threads: 0, fps: nil)
        let animation = try session.animateHandle(path: wav)
        let rig = try RigHandle(path: PreviewTests.headRig)
        let scene = try WebViewerScene(title: "buzz.wav", animation: animation, rig: rig, audio: AudioHandle(path: wav, sampleRate: 0))
        return (scene, animation, rig, directory)
    }

    @Test func theSceneIsTheRigAndTheWeightsThroughTheCAPI() throws {
        let (scene, animation, rig, directory) = try Self.scene()
        defer { try? FileManager.default.removeItem(at: directory) }
        let weights = try AnimationResult(animation.pointer)
        #expect(scene.weights == weights.values && scene.channels == weights.channels && scene.fps == 50)
        #expect(scene.audioSampleRate == 16000 && abs(scene.audioSeconds - 1.5) < 1e-9)

        // The mesh read back from the library's GLB is the rig's (metres: the head's units).
        var vertices = [Float](repeating: 0, count: rig.vertexCount * 3)
        #expect(kmt_rig_read_vertices(rig.pointer, &vertices, vertices.count, nil) == KMT_OK)
        #expect(scene.positions == vertices)
        var faces = [Int32](repeating: 0, count: rig.faceCount * 3)
        #expect(kmt_rig_read_faces(rig.pointer, &faces, faces.count, nil) == KMT_OK)
        #expect(scene.indices == faces.map { UInt32($0) })

        // Each channel's target is the sum of the deltas of the shapes it drives (the
        // engine's rig as the reference), within half a quantization step.
        let engineRig = try Rig(path: PreviewTests.headRig)
        var drivers = [Int32](repeating: -1, count: rig.shapeCount)
        #expect(kmt_rig_shape_channels(rig.pointer, animation.pointer, &drivers, drivers.count, nil) == KMT_OK)
        #expect(scene.targets.count == Set(drivers.filter { $0 >= 0 }).count)
        let count = rig.vertexCount
        for target in scene.targets {
            var expected = [Float](repeating: 0, count: count * 3)
            for (shape, driver) in drivers.enumerated() where Int(driver) == target.channel {
                for k in 0..<(count * 3) { expected[k] += engineRig.deltas.data[shape * count * 3 + k] }
            }
            let back = target.expanded(vertexCount: count)
            let worst = zip(back, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= target.scale * 0.5 + 1e-7, "\(scene.channels[target.channel]): \(worst)")
        }
        #expect(scene.albedos.count == count * 3 && Set(scene.albedos).count > 3, "skin, mouth, tongue and eyes")
    }

    @Test func thePageCarriesTheSceneInline() throws {
        let (scene, _, _, directory) = try Self.scene()
        defer { try? FileManager.default.removeItem(at: directory) }
        let html = WebViewerPage.html(scene, size: 256)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<pre id=\"kmtalk-state\">"))
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("<script src"), "nothing fetched")
        let marker = "<script type=\"application/json\" id=\"kmtalk-data\">"
        let start = try #require(html.range(of: marker)).upperBound
        let end = try #require(html.range(of: "</script>", range: start..<html.endIndex)).lowerBound
        let data = try #require(JSONSerialization.jsonObject(with: Data(html[start..<end].utf8)) as? [String: Any])
        #expect(data["size"] as? Int == 256 && data["frameCount"] as? Int == scene.frameCount && data["indexBytes"] as? Int == 2)
        #expect(data["channels"] as? [String] == scene.channels)
        let weights = try #require(Data(base64Encoded: data["weights"] as? String ?? ""))
        #expect(weights.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } == scene.weights)
        let targets = try #require(data["targets"] as? [[String: Any]])
        #expect(targets.count == scene.targets.count)
        let audio = try #require(html.range(of: "src=\"data:audio/wav;base64,"))
        #expect(html[audio.upperBound...].hasPrefix(Data("RIFF".utf8).base64EncodedString().prefix(4)))
    }

    @Test func theCommandWritesThePageAndReportsBadInput() throws {
        let directory = try PreviewTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let wav = directory.appendingPathComponent("speech.wav").path
        try PreviewTests.writeSpeechLikeWAV(wav, seconds: 1)
        let page = directory.appendingPathComponent("talk.html").path
        let common = ["--model", PreviewTests.tinyModel, "--rig", PreviewTests.headRig, "--quiet"]
        try ViewCommand.parse([wav, "-o", page, "--fps", "30", "--size", "128"] + common).run()
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("\"fps\":30.0") && html.contains("\"size\":128"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)

        func message(_ arguments: [String]) -> String {
            do {
                try ViewCommand.parse(arguments + common).run()
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(message([directory.appendingPathComponent("missing.wav").path, "-o", page]).contains("missing.wav"))
        let corrupt = directory.appendingPathComponent("corrupt.wav").path
        try Data("RIFF\u{10}\0\0\0WAVEfmt garbage".utf8).write(to: URL(fileURLWithPath: corrupt))
        #expect(message([corrupt, "-o", page]).contains("corrupt.wav"))
        #expect(message([wav, "-o", directory.appendingPathComponent("no/such/talk.html").path]).contains("cannot write"))
        #expect(try String(contentsOfFile: page, encoding: .utf8) == html, "a failed run leaves the page as it was")
        #expect(throws: (any Error).self) { try ViewCommand.parse([wav, "-o", page, "--size", "8"]).validate() }
        #expect(throws: (any Error).self) { try ViewCommand.parse([wav, "-o", page, "--fps", "0"]).validate() }
    }
}
