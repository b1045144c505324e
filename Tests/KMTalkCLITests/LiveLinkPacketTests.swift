import Testing

@testable import kmtalk

/// The Live Link Face packet against bytes written by hand from the format description
/// (docs/unreal-livelink.md), so an encoder and decoder mistake cannot cancel out; and
/// the `--livelink HOST:PORT` parsing.
@Suite struct LiveLinkPacketTests {
    /// version 6, device "dev", subject "Ké" (3 UTF-8 bytes), frame 258, subframe 0.5,
    /// rate 60/1, count 61, values: slot 0 = 1.0, slot 17 (JawOpen) = -2.0, rest 0.
    static let golden: [UInt8] = {
        var bytes: [UInt8] = [0x06]
        bytes += [0x00, 0x00, 0x00, 0x03, 0x64, 0x65, 0x76]  // "dev"
        bytes += [0x00, 0x00, 0x00, 0x03, 0x4B, 0xC3, 0xA9]  // "Ké"
        bytes += [0x00, 0x00, 0x01, 0x02]  // frame 258
        bytes += [0x3F, 0x00, 0x00, 0x00]  // subframe 0.5
        bytes += [0x00, 0x00, 0x00, 0x3C, 0x00, 0x00, 0x00, 0x01]  // 60 / 1
        bytes += [0x3D]  // 61 values
        for slot in 0..<61 {
            bytes += slot == 0 ? [0x3F, 0x80, 0x00, 0x00] : slot == 17 ? [0xC0, 0x00, 0x00, 0x00] : [0, 0, 0, 0]
        }
        return bytes
    }()

    @Test func encodesAndDecodesTheHandWrittenBytes() throws {
        var values = [Float](repeating: 0, count: 61)
        values[0] = 1
        values[17] = -2
        let packet = LiveLinkFacePacket(deviceID: "dev", subject: "Ké", frameNumber: 258, subframe: 0.5, rateNumerator: 60, values: values)
        #expect(packet.encoded() == Self.golden)
        #expect(Self.golden.count == 1 + 7 + 7 + 16 + 1 + 244)
        #expect(LiveLinkFacePacket(decoding: Self.golden) == packet)
        #expect(LiveLinkFacePacket(decoding: Array(Self.golden.dropLast())) == nil, "truncated")
        #expect(LiveLinkFacePacket(decoding: Self.golden + [0]) == nil, "trailing byte")
        #expect(LiveLinkFacePacket(decoding: [5] + Self.golden.dropFirst()) == nil, "version 5")
    }

    @Test func slotsFollowUnrealsEnumNotTheCSVColumns() {
        #expect(LiveLinkFacePacket.slotNames.count == 61)
        #expect(LiveLinkFacePacket.slotNames[15...17] == ["JawLeft", "JawRight", "JawOpen"])
        #expect(LiveLinkFacePacket.slotNames[21...22] == ["MouthLeft", "MouthRight"])
        #expect(LiveLinkFacePacket.slotNames[51...52] == ["TongueOut", "HeadYaw"])
        #expect(LiveLinkFacePacket.slots(for: ["jawOpen", "EyeBlinkLeft", "mouthRight", "neckTwist"]) == [17, 0, 22, nil])
    }

    @Test func parsesHostAndPort() throws {
        #expect(try UDPSender.parse("127.0.0.1:11111", defaultPort: 11111) == ("127.0.0.1", 11111))
        #expect(try UDPSender.parse("my-pc.local:9000", defaultPort: 11111) == ("my-pc.local", 9000))
        #expect(try UDPSender.parse("my-pc", defaultPort: 11111) == ("my-pc", 11111))
        for bad in ["", ":11111", "host:", "host:0", "host:65536", "host:x", "::1:5", "a b:1"] {
            #expect(throws: CLIError.self, "\(bad)") { try UDPSender.parse(bad, defaultPort: 11111) }
        }
        #expect(throws: CLIError.self) { try UDPSender(endpoint: "no-such-host.invalid:11111", defaultPort: 11111) }
    }

    @Test func commandOptions() throws {
        let command = try StreamCommand.parse(["a.wav", "--livelink", "127.0.0.1:11111"])
        #expect(command.pacing == .realtime && command.fps == 60 && command.subject == "KMTalk" && command.rate == 16000)
        #expect(try StreamCommand.parse(["-", "--livelink", "h:1", "--as-fast-as-possible"]).pacing == .asFastAsPossible)
        #expect(throws: (any Error).self) { try StreamCommand.parse(["a.wav", "--livelink", "h:0"]) }
        #expect(throws: (any Error).self) { try StreamCommand.parse(["a.wav", "--livelink", "h:1", "--latency-ms", "10"]) }
        #expect(throws: (any Error).self) { try StreamCommand.parse(["a.wav"]) }
    }
}
