import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// The weight exports: JSON, CSV, Live Link Face CSV and NPY of weights, read back by
/// independent parsers.
@Suite struct ExportWeightsTests {
    /// The Live Link Face app's header, copied from training/kmtalk_train/capture.py
    /// (LIVE_LINK_HEADER): 2 + 52 + 9 columns, JawRight/JawLeft and MouthRight/MouthLeft
    /// in the app's order.
    static let liveLinkHeader = "Timecode,BlendShapeCount,EyeBlinkLeft,EyeLookDownLeft,EyeLookInLeft,EyeLookOutLeft,EyeLookUpLeft,EyeSquintLeft,EyeWideLeft,EyeBlinkRight,EyeLookDownRight,EyeLookInRight,EyeLookOutRight,EyeLookUpRight,EyeSquintRight,EyeWideRight,JawForward,JawRight,JawLeft,JawOpen,MouthClose,MouthFunnel,MouthPucker,MouthRight,MouthLeft,MouthSmileLeft,MouthSmileRight,MouthFrownLeft,MouthFrownRight,MouthDimpleLeft,MouthDimpleRight,MouthStretchLeft,MouthStretchRight,MouthRollLower,MouthRollUpper,MouthShrugLower,MouthShrugUpper,MouthPressLeft,MouthPressRight,MouthLowerDownLeft,MouthLowerDownRight,MouthUpperUpLeft,MouthUpperUpRight,BrowDownLeft,BrowDownRight,BrowInnerUp,BrowOuterUpLeft,BrowOuterUpRight,CheekPuff,CheekSquintLeft,CheekSquintRight,NoseSneerLeft,NoseSneerRight,TongueOut,HeadYaw,HeadPitch,HeadRoll,LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll"

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
                #expect(Float(cells[column]) == expected, "frame \(frame) \(name): \(cells[column]) vs \(expected)")
            }
        }
        #expect(lines[62].hasPrefix("00:00:01:01.000,61,"))
    }

    @Test func liveLinkMatchesChannelNamesInOtherStylesAndWrapsHours() throws {
        let animation = ExportFixtures.animation(["JawOpen", "eyeBlink_L", "tongue_out", "notARKit"], frames: 2, fps: 30)
        let lines = text(try AnimationExporter.encode(animation, rig: nil, format: .liveLinkCSV)).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let row = lines[2].split(separator: ",").map(String.init)
        for (channel, column) in [(0, "JawOpen"), (1, "EyeBlinkLeft"), (2, "TongueOut")] {
            let index = try need(header.firstIndex(of: column))
            #expect(Float(row[index]) == animation.values.data[4 + channel], "\(column)")
        }
        #expect(row.dropFirst(2).filter { $0 != "0" }.count == 3, "only the three matched columns are nonzero")
        #expect(LiveLinkCSVExporter.timecode(frame: 30 * 3600 * 25 + 30 * 61 + 7, fps: 30) == "01:01:01:07.000")
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
