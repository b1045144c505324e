
/// The `__metadata__` of a rig file (docs/rig.md, "Container"), validated: the format
/// keys, the channel names, the units and the axes.
struct RigMetadata: Sendable {
    /// The `format` value of a rig.
    static let format = "kmtalk-rig"
    /// The only `format_version` this library reads.
    static let formatVersion = "1"
    /// The only `up_axis` version 1 allows.
    static let upAxis = "+y"
    /// The only `forward_axis` version 1 allows.
    static let forwardAxis = "+z"

    /// The blendshape names, in the order of `deltas` (unique, non-empty).
    let channels: [String]
    let units: RigUnits

    /// Validates `entries`. `source` names the file in errors. A file that is not a rig at
    /// all, or a newer version, is KMT_ERR_UNSUPPORTED_FORMAT; anything else wrong is
    /// KMT_ERR_CORRUPT_RIG.
    init(_ entries: [(key: String, value: String)], source: String) throws {
        func corrupt(_ detail: String) -> KMTError { .corruptRig("\(source): \(detail)") }
        var values: [String: String] = [:]
        for (key, value) in entries {
            guard values.updateValue(value, forKey: key) == nil else {
                throw corrupt("metadata key '\(key)' appears more than once")
            }
        }
        guard let format = values["format"], format == Self.format else {
            let found = values["format"].map { "metadata format is '\($0)'" } ?? "no metadata 'format'"
            throw KMTError(.unsupportedFormat, "\(source): not a KMTalk rig (\(found), a rig has '\(Self.format)')")
        }
        guard let version = values["format_version"] else {
            throw corrupt("missing metadata 'format_version' (this library reads \(Self.formatVersion))")
        }
        guard version == Self.formatVersion else {
            throw KMTError(.unsupportedFormat, "\(source): rig format_version '\(version)' is not supported (this library reads \(Self.formatVersion))")
        }
        guard let unitsText = values["units"] else {
            throw corrupt("missing metadata 'units' (m, cm or mm)")
        }
        guard let units = RigUnits(rawValue: unitsText) else {
            throw corrupt("metadata units '\(unitsText)' is not one of m, cm, mm")
        }
        for (key, required) in [("up_axis", Self.upAxis), ("forward_axis", Self.forwardAxis)] {
            guard let value = values[key] else { throw corrupt("missing metadata '\(key)' (version 1 requires \(required))") }
            guard value == required else { throw corrupt("metadata \(key) '\(value)' is not supported (version 1 requires \(required))") }
        }
        guard let channelsText = values["channels"] else {
            throw corrupt("missing metadata 'channels' (a JSON array of the shape names)")
        }
        self.channels = try Self.channelNames(channelsText, corrupt: corrupt)
        self.units = units
    }

    /// Parses the `channels` JSON array: strings, non-empty, without NUL, unique.
    private static func channelNames(_ text: String, corrupt: (String) -> KMTError) throws -> [String] {
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(text) } catch { throw corrupt("metadata channels is not valid JSON: \(error)") }
        guard let items = parsed.arrayValue else { throw corrupt("metadata channels is not a JSON array") }
        var names: [String] = []
        var seen: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            guard let name = item.stringValue else { throw corrupt("channels[\(index)] is not a string") }
            guard !name.isEmpty else { throw corrupt("channels[\(index)] is an empty name") }
            guard !name.utf8.contains(0) else { throw corrupt("channels[\(index)] contains a NUL character") }
            if let first = seen.updateValue(index, forKey: name) {
                throw corrupt("channel name '\(name)' appears twice (channels[\(first)] and channels[\(index)])")
            }
            names.append(name)
        }
        return names
    }
}
