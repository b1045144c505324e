/// Writes an animation as the CSV the iPhone Live Link Face app records, which Unreal's
/// Live Link Face importer and capture tools read (training/kmtalk_train/capture.py reads
/// such files). Row for row the shape of a take from the app:
///
///     Timecode,BlendshapeCount,EyeBlinkLeft,...,TongueOut,HeadYaw,...,RightEyeRoll
///     00:00:00:02.000,61,0.0182390027,...,0.0000000000
///
/// - the app's 63 columns in its order: `Timecode`, `BlendshapeCount` (61 on every row;
///   the spelling of the app's take in docs/export.md; other takes spell it
///   `BlendShapeCount`, which Unreal's importer reads alike: it compares the name
///   case-insensitively), the 52 ARKit blendshapes with a
///   capital first letter in Apple's order except that the app writes `JawRight,JawLeft`
///   and `MouthRight,MouthLeft`, then the 9 head and eye rotations;
/// - every value fixed-point with 10 decimals (`%.10f`: "0.0000000000", "-0.0381863005"),
///   as the app writes them;
/// - `Timecode` is `hh:mm:ss:ff.fff` where `ff.fff` counts 60ths of a second whatever the
///   rate, as the app's takes do (a 30 fps take steps 2 frames a row) and as Unreal's
///   importer reads it (frames / 60); rows start at 00:00:00:00.000 and the hours wrap at 24.
///
/// Channels are matched to the columns by name with the rig matcher's rules
/// (`eyeBlinkLeft`, `EyeBlinkLeft` and `eyeBlink_L` all fill `EyeBlinkLeft`); columns no
/// channel fills, the rotations among them (KMTalk animates no head or eyes), are 0.
enum LiveLinkCSVExporter {
    /// The 52 blendshape columns in the app's order.
    static let blendshapeColumns: [String] = {
        var names = ARKitChannels.names.map { $0.prefix(1).uppercased() + $0.dropFirst() }
        for (left, right) in [("JawLeft", "JawRight"), ("MouthLeft", "MouthRight")] {
            if let i = names.firstIndex(of: left), let j = names.firstIndex(of: right) { names.swapAt(i, j) }
        }
        return names
    }()

    /// The head and eye rotation columns after the blendshapes.
    static let rotationColumns = [
        "HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
        "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
    ]

    /// The 61 value columns (`BlendshapeCount` on every row).
    static let valueColumns = blendshapeColumns + rotationColumns

    /// The header line, without the line break.
    static let header = (["Timecode", "BlendshapeCount"] + valueColumns).joined(separator: ",")

    /// Matches value columns to channel names.
    private static let matcher = ChannelMatcher(shapeNames: valueColumns)

    /// The frame rates the Live Link Face app records at.
    static let recordedRates = [30, 60]

    /// The timecode's frame rate: the app counts 60ths of a second at every recording rate.
    static let timecodeRate = 60

    /// Decimals of every value, as the app writes them.
    static let decimals = 10

    /// Frames encoded between two progress reports.
    static let framesPerReport = 64

    /// The CSV text for `animation`; `progress` hears the share of the rows written (0...1)
    /// every `framesPerReport` frames and may throw to cancel. Errors:
    /// KMT_ERR_INVALID_ARGUMENT when the frame rate is not a whole number (the app records
    /// whole rates, and its timecodes stamp whole frames). A whole rate the app never
    /// records (not 30 or 60) is written, with a warning in the log: files from the app
    /// never have it, so a reader may assume 30 or 60.
    static func encode(_ animation: Animation, progress: ((Double) throws -> Void)? = nil) throws -> [UInt8] {
        let fps = animation.fps.rounded()
        guard abs(animation.fps - fps) < 1e-6, fps >= 1, fps <= 1000 else {
            throw KMTError.invalidArgument("Live Link Face CSV needs a whole frame rate (the app records whole frames at 30 or 60 fps); the animation runs at \(animation.fps) fps (animate at 60 or 30 fps)")
        }
        let rate = Int(fps)
        if !recordedRates.contains(rate) {
            Log.warning("Live Link Face CSV at \(rate) fps: the Live Link Face app records at 30 or 60 fps only, so tools reading its CSV may assume one of those; animate at 60 (or 30) fps")
        }
        let mapping = matcher.match(animation.channelNames)
        let drivers = mapping.drivers.map { $0?.source }
        let unmatched = mapping.unmatchedSources
        if !unmatched.isEmpty {
            Log.debug("Live Link Face CSV: channels without a column: \(unmatched.map { animation.channelNames[$0] }.joined(separator: ", "))")
        }
        // 15 bytes a timecode, 13 a value and its comma.
        var out = ByteBuffer(capacity: header.utf8.count + 1 + animation.frameCount * (20 + 13 * valueColumns.count))
        out.append(header + "\n")
        let width = animation.channelCount
        let count = ",\(valueColumns.count)"
        let zero = Array((",0." + String(repeating: "0", count: decimals)).utf8)
        try animation.values.data.withUnsafeBufferPointer { values in
            for frame in 0..<animation.frameCount {
                out.append(timecode(frame: frame, fps: rate) + count)
                for driver in drivers {
                    if let driver {
                        out.append(byte: UInt8(ascii: ","))
                        NumberText.appendFixed(values[frame * width + driver], decimals: decimals, to: &out)
                    } else {
                        out.append(bytes: zero)
                    }
                }
                out.append(byte: UInt8(ascii: "\n"))
                if (frame + 1) % framesPerReport == 0 { try progress?(Double(frame + 1) / Double(animation.frameCount)) }
            }
        }
        return out.bytes
    }

    /// `hh:mm:ss:ff.fff` for frame `frame` of an animation at `fps` frames per second,
    /// `ff.fff` in 60ths of a second (`timecodeRate`), rounded to a thousandth; from
    /// 00:00:00:00.000, the hours wrapping at 24 as a clock's do. At 60 fps frame 61 is
    /// 00:00:01:01.000, at 30 fps frame 7 is 00:00:00:14.000, at 25 fps frame 1 is
    /// 00:00:00:02.400.
    static func timecode(frame: Int, fps: Int) -> String {
        // Thousandths of a 60th of a second, exact for every whole rate dividing 60000.
        let ticksPerSecond = timecodeRate * 1000
        let ticks = (frame * ticksPerSecond * 2 + fps) / (fps * 2)  // rounded to nearest
        let seconds = ticks / ticksPerSecond
        let rest = ticks % ticksPerSecond
        let hours = (seconds / 3600) % 24
        let minutes = (seconds / 60) % 60
        let thousandths = rest % 1000
        let fraction = thousandths < 10 ? "00\(thousandths)" : thousandths < 100 ? "0\(thousandths)" : "\(thousandths)"
        return "\(twoDigits(hours)):\(twoDigits(minutes)):\(twoDigits(seconds % 60)):\(twoDigits(rest / 1000)).\(fraction)"
    }

    /// `value` with at least two digits.
    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
