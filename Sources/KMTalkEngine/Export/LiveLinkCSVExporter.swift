/// Writes an animation as the CSV the iPhone Live Link Face app records, which Unreal's
/// importer and capture tools read (training/kmtalk_train/capture.py has the Python twin):
///
///     Timecode,BlendShapeCount,EyeBlinkLeft,...,TongueOut,HeadYaw,...,RightEyeRoll
///     00:00:00:00.000,61,0.0123,...
///
/// Exactly the app's 63 columns in its order: `Timecode`, `BlendShapeCount` (61 on every
/// row), the 52 ARKit blendshapes with a capital first letter in Apple's order except that
/// the app writes `JawRight,JawLeft` and `MouthRight,MouthLeft`, then the 9 head and eye
/// rotations. `Timecode` is `hh:mm:ss:ff.fff`, the frame number at the animation's rate
/// (which must therefore be a whole number of frames per second), starting at 0.
/// Channels are matched to the columns by name with the rig matcher's rules
/// (`eyeBlinkLeft`, `EyeBlinkLeft` and `eyeBlink_L` all fill `EyeBlinkLeft`); columns no
/// channel fills, the rotations among them, are 0.
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

    /// The 61 value columns (`BlendShapeCount` on every row).
    static let valueColumns = blendshapeColumns + rotationColumns

    /// The header line, without the line break.
    static let header = (["Timecode", "BlendShapeCount"] + valueColumns).joined(separator: ",")

    /// Matches value columns to channel names.
    private static let matcher = ChannelMatcher(shapeNames: valueColumns)

    /// The frame rates the Live Link Face app records at.
    static let recordedRates = [30, 60]

    /// The CSV text for `animation`. Errors: KMT_ERR_INVALID_ARGUMENT when the frame rate
    /// is not a whole number (the timecodes count whole frames per second). A whole rate
    /// the app never records (not 30 or 60) is written, with a warning in the log: files
    /// from the app never have it, so a reader may assume 30 or 60.
    static func encode(_ animation: Animation) throws -> [UInt8] {
        let fps = animation.fps.rounded()
        guard abs(animation.fps - fps) < 1e-6, fps >= 1, fps <= 1000 else {
            throw KMTError.invalidArgument("Live Link Face CSV timecodes count whole frames per second; the animation runs at \(animation.fps) fps (animate at 30 or 60 fps)")
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
        var out = ByteBuffer(capacity: header.utf8.count + animation.frameCount * 400)
        out.append(header + "\n")
        let width = animation.channelCount
        let count = ",\(valueColumns.count)"
        animation.values.data.withUnsafeBufferPointer { values in
            for frame in 0..<animation.frameCount {
                var row = timecode(frame: frame, fps: rate) + count
                for driver in drivers {
                    row += ","
                    row += driver.map { NumberText.shortest(values[frame * width + $0]) } ?? "0"
                }
                row += "\n"
                out.append(row)
            }
        }
        return out.bytes
    }

    /// `hh:mm:ss:ff.fff` for frame `frame` at `fps` from 00:00:00:00.000; the hours wrap
    /// at 24 as a clock's do.
    static func timecode(frame: Int, fps: Int) -> String {
        let seconds = frame / fps
        let hours = (seconds / 3600) % 24
        let minutes = (seconds / 60) % 60
        return "\(twoDigits(hours)):\(twoDigits(minutes)):\(twoDigits(seconds % 60)):\(twoDigits(frame % fps)).000"
    }

    /// `value` with at least two digits.
    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
