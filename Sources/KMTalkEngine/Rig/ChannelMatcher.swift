/// How a source channel was paired with a rig shape, from the most to the least exact.
enum ChannelMatchKind: Int, Sendable, Comparable {
    /// Identical names: `jawOpen` drives `jawOpen`.
    case exact
    /// Names equal but for the case of the first letter (Live Link / Unity): `jawOpen`
    /// drives `JawOpen`.
    case firstLetterCase
    /// Names equal after normalisation (see `ChannelNameKey`): `eyeBlinkLeft` drives
    /// ICT-FaceKit `eyeBlink_L`, snake-case `eye_blink_left`, `blendShape1.EyeBlinkLeft`.
    case normalized
    /// One channel without a side drives both halves of a shape the rig splits:
    /// `browInnerUp` drives `browInnerUp_L` and `browInnerUp_R`.
    case splitHalf

    static func < (lhs: ChannelMatchKind, rhs: ChannelMatchKind) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

/// The source channel that drives one rig shape, and how the names were matched.
struct ShapeDriver: Sendable, Equatable {
    /// Index into the source channel list.
    let source: Int
    /// The matching rule that paired them.
    let kind: ChannelMatchKind
}

/// Which rig shapes each source channel drives: a sparse 0/1 matrix [sources, shapes] in
/// which every shape has at most one source, plus what stayed unmatched on either side.
struct ChannelMapping: Sendable, Equatable {
    /// The source channel names (a model's or an animation's), in order.
    let sourceNames: [String]
    /// The rig's shape names, in order.
    let shapeNames: [String]
    /// For each source channel, the rig shapes it drives in ascending order; empty when it
    /// drives none. Two entries for a channel that feeds split halves.
    let targets: [[Int]]
    /// For each rig shape, its driving source channel, or nil when no channel drives it.
    let drivers: [ShapeDriver?]

    /// Indices of the source channels that drive no rig shape.
    var unmatchedSources: [Int] { targets.indices.filter { targets[$0].isEmpty } }
    /// Indices of the rig shapes that no source channel drives.
    var unmatchedShapes: [Int] { drivers.indices.filter { drivers[$0] == nil } }
    /// Every (source, shape) pair of the matrix, in source order.
    var pairs: [(source: Int, shape: Int)] {
        targets.indices.flatMap { source in targets[source].map { (source, $0) } }
    }
}

/// Maps source channel names (a model's ARKit-style channels) onto a rig's shape names,
/// tolerant of the naming styles in use (docs/rig.md, "Channel names").
///
/// Rules, applied in this order over all channels so a more exact pairing always wins,
/// and each rig shape taken by at most one channel (the first in source order):
/// 1. exact name;
/// 2. equal but for the case of the first letter (`JawOpen`);
/// 3. equal `ChannelNameKey`: case, separators, tool prefixes and the side spelling
///    (`Left` / `_L` / `.L`) ignored, directions (`jawLeft`) kept;
/// 4. split halves: a channel without a side drives the unclaimed `X_L` / `X_R` (or
///    `XLeft` / `XRight`) shapes of a rig that has no whole `X`.
///
/// Built once per rig (the shape side is indexed up front); `match` then costs one key per
/// source channel. Immutable, so any thread may use it.
struct ChannelMatcher: Sendable {
    /// The rig's shape names, in order.
    let shapeNames: [String]
    private let byName: [String: [Int]]
    private let byLowerFirstLetter: [String: [Int]]
    private let byKey: [ChannelNameKey: [Int]]

    /// Indexes the rig side.
    init(shapeNames: [String]) {
        self.shapeNames = shapeNames
        var byName: [String: [Int]] = [:]
        var byLowerFirstLetter: [String: [Int]] = [:]
        var byKey: [ChannelNameKey: [Int]] = [:]
        for (index, name) in shapeNames.enumerated() {
            byName[name, default: []].append(index)
            byLowerFirstLetter[Self.lowercasingFirstLetter(name), default: []].append(index)
            if let key = ChannelNameKey(name) { byKey[key, default: []].append(index) }
        }
        self.byName = byName
        self.byLowerFirstLetter = byLowerFirstLetter
        self.byKey = byKey
    }

    /// Pairs `sourceNames` with the rig's shapes.
    func match(_ sourceNames: [String]) -> ChannelMapping {
        var drivers = [ShapeDriver?](repeating: nil, count: shapeNames.count)
        var targets = [[Int]](repeating: [], count: sourceNames.count)
        let keys = sourceNames.map(ChannelNameKey.init)

        /// Gives source `source` the first unclaimed shape among `candidates`.
        func claim(_ source: Int, _ candidates: [Int]?, _ kind: ChannelMatchKind) {
            guard targets[source].isEmpty, let candidates,
                let shape = candidates.first(where: { drivers[$0] == nil })
            else { return }
            drivers[shape] = ShapeDriver(source: source, kind: kind)
            targets[source] = [shape]
        }

        for source in sourceNames.indices {
            claim(source, byName[sourceNames[source]], .exact)
        }
        for source in sourceNames.indices {
            claim(source, byLowerFirstLetter[Self.lowercasingFirstLetter(sourceNames[source])], .firstLetterCase)
        }
        for source in sourceNames.indices {
            if let key = keys[source] { claim(source, byKey[key], .normalized) }
        }
        for source in sourceNames.indices where targets[source].isEmpty {
            guard let key = keys[source], key.side == nil, byKey[key] == nil else { continue }
            for side in [ChannelNameKey.Side.left, .right] {
                let half = ChannelNameKey(base: key.base, side: side)
                guard let shape = byKey[half]?.first(where: { drivers[$0] == nil }) else { continue }
                drivers[shape] = ShapeDriver(source: source, kind: .splitHalf)
                targets[source].append(shape)
            }
            targets[source].sort()
        }
        return ChannelMapping(sourceNames: sourceNames, shapeNames: shapeNames, targets: targets, drivers: drivers)
    }

    /// `name` with its first character lower-cased (`JawOpen` -> `jawOpen`).
    static func lowercasingFirstLetter(_ name: String) -> String {
        guard let first = name.first else { return name }
        return first.lowercased() + name.dropFirst()
    }
}
