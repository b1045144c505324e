/// Picks one Rhubarb mouth shape (`MouthShape`) per frame from ARKit blendshape weights, so
/// any model with ARKit mouth channels yields a cue track for 2D characters.
///
/// Measures of one frame (a channel the animation lacks reads as 0; `press` is the larger of
/// `mouthPressLeft/Right`, `spread` the largest of `mouthStretch*` and `mouthSmile*`):
///
/// - `rest`: the largest `jaw*` / `mouth*` weight;
/// - `aperture = jawOpen - mouthClose`: the gap the jaw leaves between the lips (ARKit's
///   `mouthClose` closes the lips over an open jaw);
/// - `rounding = mouthPucker + mouthFunnel`;
/// - `opening = max(aperture, 0) + mean(mouthLowerDownLeft/Right, mouthUpperUpLeft/Right)`.
///
/// Rules, the first that holds wins (the numbers are `MouthCueThresholds.standard`; a model
/// file may carry its own, `config.cues`):
///
/// 1. **X** when `rest <= 0.1`: every mouth and jaw weight small (the evaluation's "at rest",
///    training/kmtalk_train/metrics.py);
/// 2. **A** when `aperture <= 0.05` and the lips touch: `press >= 0.1`, `mouthClose >= 0.1`,
///    or both lips rolled in (`mouthRollLower` and `mouthRollUpper >= 0.2`);
/// 3. **G** when the lower lip alone is tucked: `mouthRollLower >= 0.2` and at least 0.1 above
///    `mouthRollUpper` (upper teeth on the lower lip);
/// 4. **H** when `tongueOut >= 0.2`;
/// 5. **F** when `rounding >= 0.35` and `jawOpen <= 0.75 * rounding` (lips lead the jaw);
/// 6. **E** when `rounding >= 0.22` (rounded with the jaw open: "AO", "ER");
/// 7. **D** when `opening >= 0.4`, **C** when `opening >= 0.2`;
/// 8. **B** when `opening >= 0.1` or `spread >= 0.1` (teeth near together, lips parted or
///    spread);
/// 9. **X** otherwise: a nearly closed, unshaped mouth is at rest.
///
/// The standard thresholds fit kmtalk-base v1's output on speech (its weights stay well
/// below 1: jawOpen peaks near 0.4 on open vowels) and still separate full-range ARKit
/// capture.
struct MouthShapeClassifier: Sendable {
    /// The numbers the rules compare against (the model's, or the standard ones).
    let thresholds: MouthCueThresholds

    /// The ARKit channels the rules read.
    enum Channel: String, CaseIterable {
        case jawOpen, mouthClose, mouthPucker, mouthFunnel, mouthPressLeft, mouthPressRight
        case mouthRollLower, mouthRollUpper, mouthLowerDownLeft, mouthLowerDownRight
        case mouthUpperUpLeft, mouthUpperUpRight, mouthStretchLeft, mouthStretchRight
        case mouthSmileLeft, mouthSmileRight, tongueOut
    }

    /// The column of each `Channel` the animation has.
    private let columns: [Channel: Int]
    /// The columns of every jaw and mouth channel (for the rest test).
    private let mouthColumns: [Int]

    /// Finds the channels among `channelNames` by name, in any naming style the rig matcher
    /// accepts (`jawOpen`, `JawOpen`, `jaw_open`). Errors: KMT_ERR_INVALID_ARGUMENT when
    /// there is no `jawOpen` (vertex offsets, or weights of another rig convention).
    init(channelNames: [String], thresholds: MouthCueThresholds = .standard) throws {
        let mapping = ChannelMatcher(shapeNames: ARKitChannels.names).match(channelNames)
        func column(_ name: String) -> Int? {
            ARKitChannels.names.firstIndex(of: name).flatMap { mapping.drivers[$0]?.source }
        }
        var columns: [Channel: Int] = [:]
        for channel in Channel.allCases { columns[channel] = column(channel.rawValue) }
        guard columns[.jawOpen] != nil else {
            let shown = channelNames.prefix(4).joined(separator: ", ") + (channelNames.count > 4 ? ", ..." : "")
            throw KMTError.invalidArgument("mouth cues are read from ARKit mouth weights, and the animation has no jawOpen channel (its channels: \(shown.isEmpty ? "none" : shown))")
        }
        var mouth: [Int] = []
        for name in ARKitChannels.names where name.hasPrefix("jaw") || name.hasPrefix("mouth") {
            if let index = column(name), !mouth.contains(index) { mouth.append(index) }
        }
        self.columns = columns
        mouthColumns = mouth
        self.thresholds = thresholds
    }

    /// The shape of one frame: `frame` holds its weights in the animation's channel order.
    func shape(_ frame: UnsafeBufferPointer<Float>) -> MouthShape {
        func value(_ channel: Channel) -> Float {
            guard let column = columns[channel], column < frame.count else { return 0 }
            let weight = frame[column]
            return weight.isFinite ? weight : 0
        }
        var rest: Float = 0
        for column in mouthColumns where column < frame.count && frame[column].isFinite {
            rest = max(rest, frame[column])
        }
        if rest <= thresholds.restMax { return .x }

        let jaw = value(.jawOpen), close = value(.mouthClose)
        let aperture = jaw - close
        let press = max(value(.mouthPressLeft), value(.mouthPressRight))
        let rollLower = value(.mouthRollLower), rollUpper = value(.mouthRollUpper)
        let lipsTouch = press >= thresholds.contactMin || close >= thresholds.contactMin
            || min(rollLower, rollUpper) >= thresholds.rolledMin
        if aperture <= thresholds.closedAperture, lipsTouch { return .a }
        if rollLower >= thresholds.rolledMin, rollLower - rollUpper >= thresholds.tuckMargin { return .g }
        if value(.tongueOut) >= thresholds.tongueMin { return .h }

        let rounding = value(.mouthPucker) + value(.mouthFunnel)
        if rounding >= thresholds.puckerMin, jaw <= thresholds.puckerJawRatio * rounding { return .f }
        if rounding >= thresholds.roundedMin { return .e }

        let lips = (value(.mouthLowerDownLeft) + value(.mouthLowerDownRight)
            + value(.mouthUpperUpLeft) + value(.mouthUpperUpRight)) / 4
        let opening = max(aperture, 0) + lips
        if opening >= thresholds.wideOpenMin { return .d }
        if opening >= thresholds.openMin { return .c }
        let spread = max(
            value(.mouthStretchLeft), value(.mouthStretchRight), value(.mouthSmileLeft), value(.mouthSmileRight))
        if opening >= thresholds.partedMin || spread >= thresholds.partedMin { return .b }
        return .x
    }
}
