/// One UDP packet of the iPhone Live Link Face app's stream (packet version 6), the
/// format Unreal's Apple ARKit Face Support plugin listens for on port 11111:
///
///     uint8    version             6
///     int32    device id length    big-endian, UTF-8 bytes, no terminator
///     bytes    device id
///     int32    subject name length big-endian, UTF-8 bytes, no terminator
///     bytes    subject name
///     int32    frame number        big-endian   } FQualifiedFrameTime:
///     float32  subframe            big-endian   } FFrameTime (frame + subframe 0..1)
///     int32    rate numerator      big-endian   } and FFrameRate
///     int32    rate denominator    big-endian   }
///     uint8    blendshape count    61
///     float32  x 61                big-endian, in `slotNames` order
///
/// Sources: Unreal's AppleARKitLiveLinkSource.cpp (FAppleARKitLiveLinkRemotePublisher
/// writes version, DeviceId, SubjectName, time, count and the floats in EARFaceBlendShape
/// order with FNboSerializeToBuffer, "network byte order"; packet version 5 sent an
/// FTimecode and a uint32 rate where version 6 sends an FQualifiedFrameTime), and two
/// independent re-implementations that agree byte for byte: think-biq/LLV
/// (src/llv/gesicht.py: uint8, int32-length UTF-8 strings, int32 + float + int32 +
/// int32, uint8 count, '>f' values) and PyLiveLinkFace (`struct.pack('!B61f', 61, ...)`).
/// docs/unreal-livelink.md has the details.
///
/// The 61 values follow Unreal's `EARFaceBlendShape` enum: Apple's ARKit order, so
/// `JawLeft, JawRight` and `MouthLeft, MouthRight` (the app's *CSV* puts right before
/// left; Unreal names the packet's values by enum index, so the CSV's column order is
/// not the packet's), then the head and eye rotations.
struct LiveLinkFacePacket: Equatable {
    /// The packet version Unreal's receiver accepts.
    static let version: UInt8 = 6
    /// The port the Live Link Face app sends to and Unreal listens on.
    static let defaultPort: UInt16 = 11111

    /// The 61 value slots in packet order: Unreal's `EARFaceBlendShape` names.
    static let slotNames: [String] = [
        "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
        "EyeSquintLeft", "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight",
        "EyeLookOutRight", "EyeLookUpRight", "EyeSquintRight", "EyeWideRight", "JawForward",
        "JawLeft", "JawRight", "JawOpen", "MouthClose", "MouthFunnel", "MouthPucker", "MouthLeft",
        "MouthRight", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft", "MouthFrownRight",
        "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
        "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft",
        "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft",
        "MouthUpperUpRight", "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft",
        "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft",
        "NoseSneerRight", "TongueOut",
        "HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
        "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
    ]

    /// The longest device id or subject name sent, in UTF-8 bytes (Unreal's receive buffer
    /// holds 256 characters of each).
    static let maxNameBytes = 255

    var deviceID: String
    var subject: String
    var frameNumber: Int32
    var subframe: Float = 0
    var rateNumerator: Int32
    var rateDenominator: Int32 = 1
    /// 61 values in `slotNames` order.
    var values: [Float]

    /// The slot of each of `channels` (ARKit names, any case of the first letter), nil for
    /// a channel without one.
    static func slots(for channels: [String]) -> [Int?] {
        let index = Dictionary(uniqueKeysWithValues: slotNames.enumerated().map { ($1.lowercased(), $0) })
        return channels.map { index[$0.lowercased()] }
    }

    /// The packet's bytes.
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [Self.version]
        bytes.reserveCapacity(1 + 8 + deviceID.utf8.count + subject.utf8.count + 16 + 1 + 4 * values.count)
        func append32(_ bits: UInt32) { bytes += [UInt8(bits >> 24), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)] }
        func appendString(_ text: String) {
            append32(UInt32(text.utf8.count))
            bytes += text.utf8
        }
        appendString(deviceID)
        appendString(subject)
        append32(UInt32(bitPattern: frameNumber))
        append32(subframe.bitPattern)
        append32(UInt32(bitPattern: rateNumerator))
        append32(UInt32(bitPattern: rateDenominator))
        bytes.append(UInt8(values.count))
        for value in values { append32(value.bitPattern) }
        return bytes
    }

    /// Reads a packet (for tests and diagnostics); nil when `bytes` is not exactly one
    /// version-6 packet with 61 values.
    init?(decoding bytes: [UInt8]) {
        var offset = 0
        func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, offset + count <= bytes.count else { return nil }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
        func read32() -> UInt32? { take(4).map { $0.reduce(0) { $0 << 8 | UInt32($1) } } }
        func readString() -> String? {
            guard let length = read32(), length <= UInt32(Self.maxNameBytes), let body = take(Int(length)) else { return nil }
            return String(validating: body, as: UTF8.self)
        }
        guard take(1)?.first == Self.version, let device = readString(), let subject = readString(),
              let frame = read32(), let subframe = read32(), let numerator = read32(), let denominator = read32(),
              let count = take(1)?.first, Int(count) == Self.slotNames.count
        else { return nil }
        var values: [Float] = []
        for _ in 0..<count {
            guard let bits = read32() else { return nil }
            values.append(Float(bitPattern: bits))
        }
        guard offset == bytes.count else { return nil }
        self.init(deviceID: device, subject: subject, frameNumber: Int32(bitPattern: frame),
                  subframe: Float(bitPattern: subframe), rateNumerator: Int32(bitPattern: numerator),
                  rateDenominator: Int32(bitPattern: denominator), values: values)
    }

    init(deviceID: String, subject: String, frameNumber: Int32, subframe: Float = 0, rateNumerator: Int32,
         rateDenominator: Int32 = 1, values: [Float]) {
        self.deviceID = deviceID
        self.subject = subject
        self.frameNumber = frameNumber
        self.subframe = subframe
        self.rateNumerator = rateNumerator
        self.rateDenominator = rateDenominator
        self.values = values
    }
}
