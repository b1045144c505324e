import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// `kmt_animation_remap`: channel maps for characters whose shapes are not the model's
/// channels, called as a C host calls it, with the sums checked by hand.
@Suite struct ChannelMapTests {
    var lastError: String { String(cString: kmt_last_error()) }

    /// Three frames of three channels with known values.
    func source() -> OpaquePointer {
        let values: [Float] = [
            0.1, 0.2, 0.3,
            0.5, 0.6, 0.7,
            0.9, 1.0, 0.0,
        ]
        return Handle.retain(Animation(
            values: Tensor(shape: [3, 3], data: values), fps: 30, channelNames: ["jawOpen", "mouthSmileLeft", "eyeBlinkLeft"],
            source: "speech.wav"))
    }

    func remap(_ animation: OpaquePointer, _ json: String) -> (kmt_status, OpaquePointer?) {
        var out: OpaquePointer? = OpaquePointer(bitPattern: 0xdead)
        let status = kmt_animation_remap(animation, json, &out)
        return (status, out)
    }

    func frames(_ animation: OpaquePointer) -> (names: [String], values: [Float]) {
        let channels = got(0) { kmt_animation_channel_count(animation, $0) }, count = got(0) { kmt_animation_frame_count(animation, $0) }
        var values = [Float](repeating: .nan, count: channels * count)
        #expect(kmt_animation_read_frames(animation, 0, count, &values, values.count, nil) == KMT_OK)
        return ((0..<channels).map { index in gotString { kmt_animation_channel_name(animation, index, $0) } ?? "" }, values)
    }

    @Test func sumsWeightedContributionsIntoTargets() throws {
        let animation = source()
        defer { kmt_animation_free(animation) }
        let (status, mapped) = remap(animation, """
            {"channels": {"jawOpen": "Mouth_Open",
                          "mouthSmileLeft": {"Smile_L": 0.5, "Mouth_Open": 0.25},
                          "eyeBlinkLeft": ["Blink_L", "Squint_L"]}}
            """)
        #expect(status == KMT_OK, "\(lastError)")
        let result = try #require(mapped)
        defer { kmt_animation_free(result) }
        let (names, values) = frames(result)
        #expect(names == ["Mouth_Open", "Smile_L", "Blink_L", "Squint_L"])
        #expect(got(0) { kmt_animation_frame_count(result, $0) } == 3 && got(0) { kmt_animation_fps(result, $0) } == 30)
        // Frame 1: jaw 0.5, smile 0.6, blink 0.7. Mouth_Open = 0.5 + 0.25 x 0.6.
        let frame1 = Array(values[4..<8])
        let expected: [Float] = [0.5 + 0.25 * 0.6, 0.5 * 0.6, 0.7, 0.7]
        for (a, b) in zip(frame1, expected) { #expect(abs(a - b) < 1e-6, "\(frame1)") }
        // Frame 2: 0.9 + 0.25 x 1.0 = 1.15, clamped to 1 by default.
        #expect(values[8] == 1)
    }

    @Test func keepsUnmappedChannelsAndCanSkipTheClamp() throws {
        let animation = source()
        defer { kmt_animation_free(animation) }
        let (status, mapped) = remap(animation, """
            {"channels": {"jawOpen": {"Jaw": 2.0}}, "keep_unmapped": true, "clamp": false}
            """)
        #expect(status == KMT_OK, "\(lastError)")
        let result = try #require(mapped)
        defer { kmt_animation_free(result) }
        let (names, values) = frames(result)
        #expect(names == ["Jaw", "mouthSmileLeft", "eyeBlinkLeft"])
        #expect(abs(values[6] - 1.8) < 1e-6, "2 x 0.9 unclamped")
        #expect(values[7] == 1.0 && values[8] == 0.0)
    }

    @Test func aRemappedAnimationDrivesARigByItsShapeNames() throws {
        let animation = source()
        defer { kmt_animation_free(animation) }
        let bytes = RigBuilder(shapeNames: ["Mouth_Open", "Smile_L", "Unused"]).encode()
        var rig: OpaquePointer?
        #expect(kmt_rig_load_memory(bytes, bytes.count, &rig) == KMT_OK, "\(lastError)")
        defer { kmt_rig_free(rig) }
        // The model's names match none of these shapes...
        var unmatched = 0
        #expect(kmt_rig_unmatched_shapes(rig, animation, nil, 0, &unmatched) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(unmatched == 3)
        // ...the mapped ones drive two of three.
        let (status, mapped) = remap(animation, #"{"channels": {"jawOpen": "Mouth_Open", "mouthSmileLeft": "Smile_L"}}"#)
        #expect(status == KMT_OK, "\(lastError)")
        let result = try #require(mapped)
        defer { kmt_animation_free(result) }
        #expect(kmt_rig_unmatched_shapes(rig, result, nil, 0, &unmatched) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(unmatched == 1)
        var size = 0
        #expect(kmt_animation_save_to_memory(result, rig, KMT_EXPORT_GLB, nil, 0, &size) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(size > 0)
    }

    @Test func badMapsAndArgumentsAreRefusedWithTheirReason() throws {
        let animation = source()
        defer { kmt_animation_free(animation) }
        let cases: [(String, String)] = [
            ("not json", "not JSON"),
            ("[1, 2]", "top level must be an object"),
            (#"{"channel": {}}"#, "unknown key 'channel'"),
            (#"{"channels": {}}"#, "maps nothing"),
            (#"{"channels": {"jawOpen": 3}}"#, "a name, a list of names or an object"),
            (#"{"channels": {"jawOpen": {"A": "x"}}}"#, "is not a number"),
            (#"{"channels": {"jawOpen": {"A": 100}}}"#, "outside -10.0...10.0"),
            (#"{"channels": {"jawOpen": [1]}}"#, "not a name"),
            (#"{"channels": {"jawOpen": ""}}"#, "empty target"),
            (#"{"channels": {"jawOpen": "A", "jawOpen": "B"}}"#, "appears twice"),
            (#"{"channels": {"tongueOut": "A"}}"#, "no channel 'tongueOut'"),
            (#"{"channels": {"jawOpen": "eyeBlinkLeft"}, "keep_unmapped": true}"#, "also a target"),
            (#"{"channels": {"jawOpen": "A"}, "clamp": 1}"#, "'clamp' must be true or false"),
        ]
        for (json, reason) in cases {
            let (status, out) = remap(animation, json)
            #expect(status == KMT_ERR_INVALID_ARGUMENT && out == nil, "\(json)")
            #expect(lastError.contains(reason), "\(json): \(lastError)")
        }
        var out: OpaquePointer?
        #expect(kmt_animation_remap(nil, "{}", &out) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animation_remap(animation, nil, &out) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animation_remap(animation, #"{"channels": {"jawOpen": "A"}}"#, nil) == KMT_ERR_INVALID_ARGUMENT)
        // A vertices-space animation has coordinates, not shapes.
        let template = try VertexTemplate(vertices: [0, 0, 0, 1, 0, 0])
        let vertices = Handle.retain(try Animation(values: Tensor(shape: [1, 6], data: [Float](repeating: 0, count: 6)), fps: 30, template: template))
        defer { kmt_animation_free(vertices) }
        #expect(kmt_animation_remap(vertices, #"{"channels": {"v0.x": "A"}}"#, &out) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("vertices-space"))
    }
}
