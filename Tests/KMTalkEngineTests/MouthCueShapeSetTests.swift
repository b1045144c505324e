import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// Rhubarb's `--extendedShapes`: a shape left out of G, H, X is drawn as its basic shape
/// (G -> B, H -> C, X -> A, the closing rest line included), and cues that become equal
/// neighbours are joined; through every cue format and the C API.
@Suite struct MouthCueShapeSetTests {
    var lastError: String { String(cString: kmt_last_error()) }

    /// A cue of `shape` over frames `start..<end` at 50 fps (2 centiseconds a frame).
    func cue(_ shape: MouthShape, _ start: Int, _ end: Int) -> MouthCue {
        MouthCue(shape: shape, startFrame: start, endFrame: end, startCentiseconds: 2 * start, endCentiseconds: 2 * end)
    }

    @Test func basicShapesAreRhubarbs() {
        #expect(MouthShape.allCases.map(\.basicShape) == [.a, .b, .c, .d, .e, .f, .b, .c, .a])
        #expect(MouthShape.g.limited(to: []) == .b && MouthShape.g.limited(to: [.g]) == .g)
        #expect(MouthShape.x.limited(to: [.g, .h]) == .a && MouthShape.d.limited(to: []) == .d)
    }

    @Test func aHandMadeTrackMapsAndJoins() {
        let track = MouthCueTrack(
            cues: [cue(.x, 0, 5), cue(.g, 5, 8), cue(.b, 8, 12), cue(.h, 12, 15), cue(.c, 15, 20), cue(.a, 20, 22), cue(.x, 22, 30)],
            durationCentiseconds: 60, source: "s.wav")
        let basic = track.limited(to: [])
        #expect(basic.cues == [cue(.a, 0, 5), cue(.b, 5, 12), cue(.c, 12, 20), cue(.a, 20, 30)])
        #expect(basic.restShape == .a && basic.durationCentiseconds == 60 && basic.source == "s.wav")
        let onlyG = track.limited(to: [.g])
        #expect(onlyG.cues.map(\.shape) == [.a, .g, .b, .c, .a])
        #expect(onlyG.cues[3] == cue(.c, 12, 20), "H joined the C after it")
        let restKept = track.limited(to: [.x])
        #expect(restKept.cues.map(\.shape) == [.x, .b, .c, .a, .x] && restKept.restShape == .x)
        #expect(track.limited(to: MouthShape.extendedShapes).cues == track.cues)
        // Neighbours always differ, and the track still covers 0 to the end.
        for limited in [basic, onlyG, restKept] {
            #expect(zip(limited.cues, limited.cues.dropFirst()).allSatisfy { $0.shape != $1.shape && $0.endFrame == $1.startFrame })
            #expect(limited.cues.first?.startCentiseconds == 0 && limited.cues.last?.endCentiseconds == 60)
        }
        // The empty track's rest cue follows the rest shape.
        let empty = MouthCueTrack(cues: [], durationCentiseconds: 0, source: nil).limited(to: [.g, .h])
        #expect(empty.listedCues.map(\.shape) == [.a])
    }

    @Test func lettersAreParsedAsRhubarbTakesThem() throws {
        #expect(try MouthShape.extendedShapes(parsing: "GHX") == [.g, .h, .x])
        #expect(try MouthShape.extendedShapes(parsing: "xg") == [.g, .x])
        #expect(try MouthShape.extendedShapes(parsing: "") == [])
        #expect(throws: KMTError.self) { try MouthShape.extendedShapes(parsing: "GZ") }
        #expect(throws: KMTError.self) { try MouthShape.extendedShapes(parsing: "A") }
    }

    /// Silence, a lower lip tucked under the teeth (G), a slightly open jaw (B), silence.
    static let animation = MouthCuesTests.animation([
        (10, MouthCuesTests.silence), (10, ["jawOpen": 0.08, "mouthRollLower": 0.45, "mouthUpperUpLeft": 0.1]),
        (10, ["jawOpen": 0.12]), (10, MouthCuesTests.silence),
    ])

    /// The shape column of a TSV.
    func tsvShapes(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { String($0.split(separator: "\t")[1]) }
    }

    @Test func throughEveryCueFormat() throws {
        let all = try AnimationExporter.encode(Self.animation, rig: nil, format: .mouthCuesTSV)
        #expect(tsvShapes(all) == ["X", "G", "B", "X", "X"])
        func encode(_ format: ExportFormat, _ letters: String) throws -> [UInt8] {
            try AnimationExporter.encode(
                Self.animation, rig: nil, format: format,
                options: ExportOptions(extendedShapes: MouthShape.extendedShapes(parsing: letters)))
        }
        #expect(tsvShapes(try encode(.mouthCuesTSV, "")) == ["A", "B", "A", "A"], "G joins B; X and the closing line are A")
        #expect(tsvShapes(try encode(.mouthCuesTSV, "X")) == ["X", "B", "X", "X"])
        #expect(tsvShapes(try encode(.mouthCuesTSV, "G")) == ["A", "G", "B", "A", "A"])
        let rows = String(decoding: try encode(.mouthCuesTSV, ""), as: UTF8.self).split(separator: "\n")
        #expect(rows.map { $0.split(separator: "\t")[0] } == ["0.00", "0.20", "0.60", "0.80"], "the joined cue spans G and B")
        let json = String(decoding: try encode(.mouthCuesJSON, ""), as: UTF8.self)
        #expect(json.contains("{ \"start\": 0.20, \"end\": 0.60, \"value\": \"B\" }"))
        #expect(!json.contains("\"X\"") && !json.contains("\"G\""))
        let xml = String(decoding: try encode(.mouthCuesXML, "GH"), as: UTF8.self)
        #expect(xml.contains("<mouthCue start=\"0.00\" end=\"0.20\">A</mouthCue>") && !xml.contains(">X<"))
        let dat = String(decoding: try encode(.mouthCuesDAT, ""), as: UTF8.self)
        #expect(dat == "MohoSwitch1\n1 A\n5 B\n15 A\n20 A\n", "\(dat)")
        // The weights formats ignore it.
        #expect(try encode(.csv, "") == AnimationExporter.encode(Self.animation, rig: nil, format: .csv))
    }

    @Test func throughTheCAPI() throws {
        let handle = Handle.retain(Self.animation)
        defer { kmt_animation_free(handle) }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cues.tsv").path
        var params = kmt_export_params()
        #expect(kmt_export_params_init(&params, MemoryLayout<kmt_export_params>.size) == KMT_OK)
        let saved = "".withCString { letters in
            params.mouth_cue_extended_shapes = letters
            return kmt_animation_save_with_params(handle, nil, path, KMT_EXPORT_AUTO, &params)
        }
        #expect(saved == KMT_OK, "\(lastError)")
        #expect(tsvShapes(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) == ["A", "B", "A", "A"])
        "hgx".withCString { letters in
            params.mouth_cue_extended_shapes = letters
            var size = 0
            #expect(kmt_animation_save_to_memory_with_params(handle, nil, KMT_EXPORT_MOUTH_CUES_TSV, &params, nil, 0, &size) == KMT_ERR_BUFFER_TOO_SMALL)
            var bytes = [UInt8](repeating: 0, count: size)
            #expect(kmt_animation_save_to_memory_with_params(handle, nil, KMT_EXPORT_MOUTH_CUES_TSV, &params, &bytes, size, &size) == KMT_OK)
            #expect(tsvShapes(bytes) == ["X", "G", "B", "X", "X"])
        }
        "GQ".withCString { letters in
            params.mouth_cue_extended_shapes = letters
            #expect(kmt_animation_save_with_params(handle, nil, path, KMT_EXPORT_AUTO, &params) == KMT_ERR_INVALID_ARGUMENT)
            #expect(lastError.contains("'Q' is not one of Rhubarb's extended shapes G, H, X"), "\(lastError)")
        }
        // kmt_animation_save keeps all of them.
        #expect(kmt_animation_save(handle, nil, path, KMT_EXPORT_AUTO) == KMT_OK)
        #expect(tsvShapes(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) == ["X", "G", "B", "X", "X"])
    }
}
