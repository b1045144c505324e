import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

@testable import kmtalk

/// `kmtalk animate -o cues.tsv` and `--format cues-tsv|cues-json`: the format choice and
/// the files written.
@Suite struct AnimateCuesTests {
    @Test func formatFromExtensionAndOption() throws {
        #expect(try Animate.parse(["a.wav", "-o", "cues.tsv"]).chosenFormat() == .mouthCuesTSV)
        #expect(try Animate.parse(["a.wav", "-o", "cues.json"]).chosenFormat() == .json, ".json stays the weights")
        #expect(try Animate.parse(["a.wav", "-o", "out.json", "--format", "cues-json"]).chosenFormat() == .mouthCuesJSON)
        #expect(try Animate.parse(["a.wav", "-o", "-", "--format", "cues-tsv"]).chosenFormat() == .mouthCuesTSV)
        #expect(try Animate.parse(["a.wav", "-o", "x.txt", "--format", "CUES_TSV"]).chosenFormat() == .mouthCuesTSV)
        #expect(try Animate.parse(["a.wav", "-o", "x.xml", "--format", "cues-xml"]).chosenFormat() == .mouthCuesXML)
        #expect(try Animate.parse(["a.wav", "-o", "x.dat", "--format", "moho"]).chosenFormat() == .mouthCuesDAT)
        #expect(throws: (any Error).self) { try Animate.parse(["a.wav", "-o", "x.txt", "--format", "cues-svg"]).chosenFormat() }
        // The sparse GLB only by name; a .glb path stays dense.
        #expect(try Animate.parse(["a.wav", "-o", "face.glb"]).chosenFormat() == .glb)
        #expect(try Animate.parse(["a.wav", "-o", "face.glb", "--format", "glb-sparse"]).chosenFormat() == .glbSparse)
        #expect(try Animate.parse(["a.wav", "-o", "face.bin", "--format", "GLB_SPARSE"]).chosenFormat() == .glbSparse)
        #expect(OutputFormat.glbSparse.exportFormat == KMT_EXPORT_GLB_SPARSE && OutputFormat.glbSparse.needsRig)
    }

    /// The CLI's table of formats (a host's view of the C enum) agrees with the library's:
    /// the same names, the same extension rule, the same needs.
    @Test func outputFormatsAgreeWithTheLibrary() throws {
        #expect(OutputFormat.allCases.map(\.rawValue) == ExportFormat.allCases.map(\.rawValue))
        for format in OutputFormat.allCases {
            let library = try #require(ExportFormat(rawValue: format.rawValue))
            #expect(format.needsRig == library.needsRig && format.isSequence == library.isSequence, "\(format)")
            #expect(try KMTalkEngine.exportFormat(format.exportFormat) == library, "\(format)")
        }
        for name in ["a.json", "b.CSV", "c.npy", "d.glb", "e.obj", "f.ply", "g.tsv", "h.gltf", "i", ".json", "dir.v1/x"] {
            #expect(OutputFormat(path: name)?.rawValue == ExportFormat(path: name)?.rawValue, "\(name)")
        }
    }

    @Test func liveLinkCSVIsWrittenAt60FpsUnlessAsked() throws {
        let directory = try PreviewTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let audio = directory.appendingPathComponent("speech.wav").path
        try PreviewTests.writeSpeechLikeWAV(audio, seconds: 1)
        let csv = directory.appendingPathComponent("take.csv").path
        try Animate.parse([audio, "-o", csv, "--format", "livelink", "--model", PreviewTests.tinyModel]).run()
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").count - 1
        #expect(abs(rows - 60) <= 1, "\(rows) rows for a second of audio")
        try Animate.parse([audio, "-o", csv, "--format", "livelink", "--fps", "30", "--model", PreviewTests.tinyModel]).run()
        let rows30 = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").count - 1
        #expect(abs(rows30 - 30) <= 1, "\(rows30) rows at --fps 30")
    }

    @Test func writesRhubarbFiles() throws {
        let directory = try PreviewTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let audio = directory.appendingPathComponent("speech.wav").path
        try PreviewTests.writeSpeechLikeWAV(audio, seconds: 1)
        let tsv = directory.appendingPathComponent("cues.tsv").path
        let json = directory.appendingPathComponent("cues.json").path
        try Animate.parse([audio, "-o", tsv, "--model", PreviewTests.tinyModel]).run()
        try Animate.parse([audio, "-o", json, "--format", "cues-json", "--model", PreviewTests.tinyModel]).run()
        let lines = try String(contentsOfFile: tsv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.hasPrefix("0.00\t") == true)
        let end = try #require(lines.last?.split(separator: "\t"))
        #expect(end.count == 2 && end[1] == "X", "the last line: the end of the track and X")
        #expect(abs((Double(end[0]) ?? 0) - 1) <= 0.04, "the track lasts the second of audio: \(end[0])")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["soundFile"] as? String == audio)
        let cues = try #require(object["mouthCues"] as? [[String: Any]])
        #expect(cues.count == lines.count - 1)
    }
}

/// `kmtalk animate --map`: a character's own shape names through a channel map.
@Suite struct AnimateChannelMapTests {
    @Test func theMapRenamesAndMixesChannels() throws {
        let directory = try PreviewTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let audio = directory.appendingPathComponent("speech.wav").path
        try PreviewTests.writeSpeechLikeWAV(audio, seconds: 1)
        let map = directory.appendingPathComponent("hero.json").path
        try Data(#"{"channels": {"jawOpen": {"Mouth_Open": 0.5}, "mouthClose": ["Lips_A", "Lips_B"]}}"#.utf8)
            .write(to: URL(fileURLWithPath: map))
        let plain = directory.appendingPathComponent("plain.csv").path, mapped = directory.appendingPathComponent("mapped.csv").path
        try Animate.parse([audio, "-o", plain, "--model", PreviewTests.tinyModel, "--quiet"]).run()
        try Animate.parse([audio, "-o", mapped, "--model", PreviewTests.tinyModel, "--map", map, "--quiet"]).run()
        func rows(_ path: String) throws -> [[String]] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        }
        let source = try rows(plain), result = try rows(mapped)
        #expect(result[0] == ["time", "Mouth_Open", "Lips_A", "Lips_B"])
        #expect(result.count == source.count)
        let jaw = try #require(source[0].firstIndex(of: "jawOpen")), close = try #require(source[0].firstIndex(of: "mouthClose"))
        for row in 1..<source.count {
            #expect(abs(Double(result[row][1])! - 0.5 * Double(source[row][jaw])!) < 1e-5)
            #expect(result[row][2] == source[row][close] && result[row][3] == source[row][close])
        }
        // Cues read the model's own channels: refused with the reason.
        #expect(throws: CLIError.self) {
            try Animate.parse([audio, "-o", directory.appendingPathComponent("c.tsv").path, "--model", PreviewTests.tinyModel, "--map", map, "--quiet"]).run()
        }
    }
}
