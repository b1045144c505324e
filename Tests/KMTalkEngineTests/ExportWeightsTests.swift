import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// The weight exports: JSON, CSV, Live Link Face CSV and NPY of weights, read back by
/// independent parsers.
@Suite struct ExportWeightsTests {
    /// The Live Link Face app's header as its take MySlate_1_iPhone.csv (docs/export.md)
    /// has it: 2 + 52 + 9 columns, JawRight/JawLeft and MouthRight/MouthLeft in the app's
    /// order, `BlendshapeCount` (capture.py's LIVE_LINK_HEADER, like other takes, spells
    /// it `BlendShapeCount`).
    static let liveLinkHeader = "Timecode,BlendshapeCount,EyeBlinkLeft,EyeLookDownLeft,EyeLookInLeft,EyeLookOutLeft,EyeLookUpLeft,EyeSquintLeft,EyeWideLeft,EyeBlinkRight,EyeLookDownRight,EyeLookInRight,EyeLookOutRight,EyeLookUpRight,EyeSquintRight,EyeWideRight,JawForward,JawRight,JawLeft,JawOpen,MouthClose,MouthFunnel,MouthPucker,MouthRight,MouthLeft,MouthSmileLeft,MouthSmileRight,MouthFrownLeft,MouthFrownRight,MouthDimpleLeft,MouthDimpleRight,MouthStretchLeft,MouthStretchRight,MouthRollLower,MouthRollUpper,MouthShrugLower,MouthShrugUpper,MouthPressLeft,MouthPressRight,MouthLowerDownLeft,MouthLowerDownRight,MouthUpperUpLeft,MouthUpperUpRight,BrowDownLeft,BrowDownRight,BrowInnerUp,BrowOuterUpLeft,BrowOuterUpRight,CheekPuff,CheekSquintLeft,CheekSquintRight,NoseSneerLeft,NoseSneerRight,TongueOut,HeadYaw,HeadPitch,HeadRoll,LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll"

    func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func jsonRoundTrips() throws {
        let animation = ExportFixtures.animation()
        let bytes = try AnimationExporter.encode(animation, rig: nil, format: .json)
        let object = try need(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect((object["fps"] as? NSNumber)?.doubleValue == 60)
        #expect(object["frame_count"] as? Int == 12)
        #expect(object["source"] as? String == "speech \"1\".wav")
        #expect(object["model"] as? String == "models/test.safetensors")
        #expect(object["channels"] as? [String] == ARKitChannels.names)
        let frames = try need(object["frames"] as? [[NSNumber]])
        #expect(frames.count == 12)
        var worst: Float = 0
        for (frame, row) in frames.enumerated() {
            try #require(row.count == 52)
            for (channel, value) in row.enumerated() {
                worst = max(worst, abs(value.floatValue - animation.values.data[frame * 52 + channel]))
            }
        }
        #expect(worst <= 1e-6, "worst error \(worst)")
        // The layout the CLI has always written.
        #expect(text(bytes).hasPrefix("{\n  \"fps\": 60.0,\n  \"frame_count\": 12,\n  \"source\": \"speech \\\"1\\\".wav\",\n"))
    }

    @Test func jsonLeavesOutUnknownProvenance() throws {
        let animation = ExportFixtures.animation(["jawOpen"], frames: 1, source: nil, model: nil)
        let object = try need(try JSONSerialization.jsonObject(with: Data(try AnimationExporter.encode(animation, rig: nil, format: .json))) as? [String: Any])
        #expect(object["source"] == nil && object["model"] == nil)
        #expect(object["frame_count"] as? Int == 1)
    }

    @Test func csvRoundTrips() throws {
        let animation = ExportFixtures.animation(fps: 30)
        let lines = text(try AnimationExporter.encode(animation, rig: nil, format: .csv)).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 12 + 2, "header, 12 rows, the final empty piece")
        #expect(lines.last == "")
        #expect(lines[0] == "time," + ARKitChannels.names.joined(separator: ","))
        var worst: Float = 0
        for frame in 0..<12 {
            let cells = lines[frame + 1].split(separator: ",").map(String.init)
            try #require(cells.count == 53)
            #expect(abs(try need(Double(cells[0])) - Double(frame) / 30) < 1e-6)
            for channel in 0..<52 {
                worst = max(worst, abs(try need(Float(cells[channel + 1])) - animation.values.data[frame * 52 + channel]))
            }
        }
        #expect(worst <= 1e-6, "worst error \(worst)")
        #expect(lines[1].hasPrefix("0.000000,"))
    }

    @Test func csvQuotesAnAwkwardChannelName() throws {
        let animation = ExportFixtures.animation(["a,b", "say \"hi\""], frames: 1)
        let header = text(try AnimationExporter.encode(animation, rig: nil, format: .csv)).split(separator: "\n")[0]
        #expect(header == "time,\"a,b\",\"say \"\"hi\"\"\"")
    }

    @Test func liveLinkHasTheAppsColumnsAndTimecodes() throws {
        // 130 frames at 60 fps: past one second, so the seconds and frame fields both count.
        let animation = ExportFixtures.animation(frames: 130, fps: 60)
        let lines = text(try AnimationExporter.encode(animation, rig: nil, format: .liveLinkCSV)).split(separator: "\n").map(String.init)
        #expect(lines[0] == Self.liveLinkHeader)
        #expect(lines[0].split(separator: ",").count == 63)
        #expect(lines.count == 1 + 130)
        let header = lines[0].split(separator: ",").map(String.init)
        for frame in [0, 1, 59, 60, 61, 129] {
            let cells = lines[frame + 1].split(separator: ",").map(String.init)
            #expect(cells.count == 63)
            #expect(cells[0] == String(format: "00:00:%02d:%02d.000", frame / 60, frame % 60), "frame \(frame): \(cells[0])")
            #expect(cells[1] == "61")
            for (column, name) in header.enumerated().dropFirst(2) {
                let arkit = name.prefix(1).lowercased() + name.dropFirst()
                let expected = ExportFixtures.value(animation, frame: frame, channel: arkit) ?? 0
                #expect(cells[column] == NumberText.fixed(Double(expected), decimals: 10), "frame \(frame) \(name): \(cells[column]) vs \(expected)")
            }
        }
        #expect(lines[62].hasPrefix("00:00:01:01.000,61,"))
    }

    /// The 61 values of the first row of a take recorded by the Live Link Face app
    /// (MySlate_1_iPhone.csv in github.com/dwskillman/BlendFiles, docs/export.md): 52
    /// blendshapes, the head rotation (0 in this take) and the eyes' (radians).
    static let appRowValues =
        "0.0182390027,0.1126266047,0.0544237606,0.0000000000,0.0000000000,0.0492073074,0.0000000000,0.0184993520,"
            + "0.1126226410,0.0626601055,0.0000000000,0.0000000000,0.0492055379,0.0000000000,0.0086282734,"
            + "0.0069826529,0.0000000000,0.0152122928,0.0190521292,0.0122395223,0.0484295152,0.0000000000,"
            + "0.0330241732,0.0240318440,0.0877640620,0.0000000000,0.0000000000,0.0076385094,0.0082660848,"
            + "0.0270072967,0.0272899829,0.0160105191,0.0179545302,0.0539737977,0.0303745233,0.0216923337,"
            + "0.0234204177,0.0196970906,0.0181558393,0.0047733900,0.0057865656,0.0592719503,0.0595941171,"
            + "0.0155718960,0.0000000000,0.0000000000,0.0144077558,0.0194894280,0.0220976323,0.0449737906,"
            + "0.0477803946,0.0000000461,0.0000000000,0.0000000000,0.0000000000,-0.0381863005,0.0688475519,"
            + "-0.0026325486,0.0331669003,0.0688375905,0.0022863199"

    @Test func liveLinkReproducesARowOfTheAppByteForByte() throws {
        // The app's floats, read back from its text, written by the exporter: the same text
        // (%.10f of a float32), the same count column and layout; only the timecode differs
        // (the take starts at 11:54:29:19.804, an export at 0).
        let cells = Self.appRowValues.split(separator: ",").map(String.init)
        #expect(cells.count == 61)
        let animation = Animation(
            values: Tensor(shape: [2, 61], data: (cells + cells).map { Float($0)! }), fps: 60,
            channelNames: LiveLinkCSVExporter.valueColumns)
        let lines = text(try AnimationExporter.encode(animation, rig: nil, format: .liveLinkCSV)).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1] == "00:00:00:00.000,61," + Self.appRowValues)
        #expect(lines[2] == "00:00:00:01.000,61," + Self.appRowValues)
        // ARKit's camelCase channels fill the same columns; the rotations no channel fills are
        // written as the app writes a zero.
        let arkit = Animation(
            values: Tensor(shape: [1, 52], data: cells.prefix(52).map { Float($0)! }), fps: 30,
            channelNames: LiveLinkCSVExporter.blendshapeColumns.map { $0.prefix(1).lowercased() + $0.dropFirst() })
        let row = text(try AnimationExporter.encode(arkit, rig: nil, format: .liveLinkCSV)).split(separator: "\n")[1]
        #expect(row == "00:00:00:00.000,61," + cells.prefix(52).joined(separator: ",") + String(repeating: ",0.0000000000", count: 9))
    }

    @Test func fixedPointTextIsPrintfs() {
        var generator = SeededGenerator(seed: 3)
        var values: [Float] = [0, -0.0, 1, -1, 0.5, 1e-11, -1e-11, 5e-11, -4.9e-11, 0.12345678, 899_999.9, 1e7, -3e9, .infinity, .nan, 0.00000000005]
        for _ in 0..<5_000 { values.append(Float.random(in: -1.5...1.5, using: &generator) * Float.random(in: 0...1, using: &generator)) }
        for value in values {
            for decimals in [0, 3, 6, 10] {
                var out = ByteBuffer(capacity: 32)
                NumberText.appendFixed(value, decimals: decimals, to: &out)
                let text = String(decoding: out.bytes, as: UTF8.self)
                #expect(text == NumberText.fixed(Double(value), decimals: decimals), "\(value) with \(decimals) decimals")
            }
        }
    }

    @Test func liveLinkMatchesChannelNamesInOtherStylesAndWrapsHours() throws {
        let animation = ExportFixtures.animation(["JawOpen", "eyeBlink_L", "tongue_out", "notARKit"], frames: 2, fps: 30)
        let lines = text(try AnimationExporter.encode(animation, rig: nil, format: .liveLinkCSV)).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let row = lines[2].split(separator: ",").map(String.init)
        for (channel, column) in [(0, "JawOpen"), (1, "EyeBlinkLeft"), (2, "TongueOut")] {
            let index = try need(header.firstIndex(of: column))
            #expect(row[index] == NumberText.fixed(Double(animation.values.data[4 + channel]), decimals: 10), "\(column)")
        }
        #expect(row.dropFirst(2).filter { $0 != "0.0000000000" }.count == 3, "only the three matched columns are nonzero")
        // 60ths of a second at every rate: frame 7 at 30 fps is the 14th 60th.
        #expect(LiveLinkCSVExporter.timecode(frame: 30 * 3600 * 25 + 30 * 61 + 7, fps: 30) == "01:01:01:14.000")
        #expect(row[0] == "00:00:00:02.000", "frame 1 at 30 fps")
    }

    @Test func liveLinkRefusesAFractionalFrameRate() throws {
        let animation = ExportFixtures.animation(frames: 3, fps: 29.97)
        #expect(throws: KMTError.self) { try AnimationExporter.encode(animation, rig: nil, format: .liveLinkCSV) }
        do {
            _ = try AnimationExporter.encode(animation, rig: nil, format: .liveLinkCSV)
        } catch let error as KMTError {
            #expect(error.status == KMT_ERR_INVALID_ARGUMENT)
            #expect(error.message.contains("29.97"))
        }
    }

    /// The header dictionary and data offset of an .npy file, checked against the v1.0 rules.
    func parseNPY(_ bytes: [UInt8]) throws -> (header: String, dataStart: Int) {
        try #require(bytes.count >= 10)
        #expect(Array(bytes[0..<6]) == [0x93] + Array("NUMPY".utf8))
        #expect(bytes[6] == 1 && bytes[7] == 0, "version 1.0")
        let length = Int(try ByteReader(bytes: bytes).uint16(8))
        let dataStart = 10 + length
        #expect(dataStart % 64 == 0, "data starts at \(dataStart)")
        try #require(dataStart <= bytes.count)
        let header = String(decoding: bytes[10..<dataStart], as: UTF8.self)
        #expect(header.hasSuffix("\n"))
        return (header, dataStart)
    }

    @Test func npyOfWeights() throws {
        let animation = ExportFixtures.animation(frames: 7)
        let bytes = try AnimationExporter.encode(animation, rig: nil, format: .npy)
        let (header, dataStart) = try parseNPY(bytes)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (7, 52), }"))
        #expect(bytes.count - dataStart == 7 * 52 * 4)
        #expect(try ByteReader(bytes: bytes).floats(dataStart, count: 7 * 52) == animation.values.data)
    }

    @Test func npyOfVerticesWithARig() throws {
        let (_, rig) = try ExportFixtures.rig()
        let animation = ExportFixtures.animation(frames: 70)
        let bytes = try AnimationExporter.encode(animation, rig: rig, format: .npy)
        let (header, dataStart) = try parseNPY(bytes)
        #expect(header.contains("'shape': (70, 11, 3)"))
        let expected = try VertexSolver(rig: rig, channelNames: animation.channelNames)
            .vertices(of: animation, frames: 0..<70, mode: .absolute)
        #expect(try ByteReader(bytes: bytes).floats(dataStart, count: expected.count) == expected)
        #expect(bytes.count - dataStart == expected.count * 4)
    }

    @Test func formatsByExtension() {
        #expect(ExportFormat(path: "out/a.JSON") == .json)
        #expect(ExportFormat(path: "a.csv") == .csv)
        #expect(ExportFormat(path: "take.livelink.csv") == .csv, "Live Link is only chosen explicitly")
        #expect(ExportFormat(path: "x.npy") == .npy)
        #expect(ExportFormat(path: "dir.v2/face.glb") == .glb)
        #expect(ExportFormat(path: "face.obj") == .obj)
        #expect(ExportFormat(path: "face.Ply") == .ply)
        #expect(ExportFormat(path: "face") == nil)
        #expect(ExportFormat(path: "dir.glb/face") == nil)
        #expect(ExportFormat(path: ".glb") == nil)
        #expect(ExportFormat(path: "a.txt") == nil)
    }

    @Test func numberText() {
        #expect(NumberText.weight(0.25) == "0.25")
        #expect(NumberText.weight(1) == "1")
        #expect(NumberText.weight(-0.0000001) == "0")
        #expect(NumberText.weight(-0.5) == "-0.5")
        #expect(NumberText.weight(123456) == "123456")
        #expect(NumberText.fixed(1.0 / 3.0, decimals: 6) == "0.333333")
        #expect(NumberText.shortest(0.1) == "0.1")
        #expect(Float(NumberText.shortest(1e-5)) == 1e-5)
        #expect(Double(NumberText.exact(0.1)) == Double(Float(0.1)))
    }

    /// The text writers' byte formatter prints exactly what `%.6f` (trimmed) prints: random
    /// weights, every float near a rounding tie of the sixth decimal, signs, large values.
    @Test func fastWeightTextEqualsPrintf() {
        var generator = SystemRandomNumberGenerator()
        var values: [Float] = [0, -0, 1, -1, 0.5, 0.0000005, -0.0000005, 0.0000015, 0.0000025, 1e-7, -1e-7,
                               123456.5, 9_999_999, 1e12, -1e12, 3e38, .infinity, -.infinity, .nan,
                               .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        values += (0..<100_000).map { _ in Float.random(in: -1.5...1.5, using: &generator) }
        values += (0..<20_000).map { _ in Float.random(in: -2000...2000, using: &generator) }
        // Floats next to the ties k + 0.5 (in units of 1e-6): where a double rounding would slip.
        for k in stride(from: 0, to: 2_000_000, by: 997) {
            let tie = Float((Double(k) + 0.5) / 1_000_000)
            values += [tie.nextDown, tie, tie.nextUp]
        }
        var mismatches: [String] = []
        for value in values {
            var out = ByteBuffer(capacity: 32)
            NumberText.appendWeight(value, to: &out)
            let fast = String(decoding: out.bytes, as: UTF8.self)
            if fast != NumberText.weight(value) { mismatches.append("\(value): \(fast) vs \(NumberText.weight(value))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
}
