import Testing

@testable import KMTalkEngine

/// Matching a model's channel names onto a rig's shape names (docs/rig.md, "Channel names").
@Suite struct ChannelMatcherTests {
    /// The blendshapes of ICT-FaceKit, as its `.obj` file names spell them (57 shapes:
    /// the 53 of its `vertex_indices.json` "expressions" plus cheekRaiser and PupilDilate).
    static let ictFaceKit = [
        "PupilDilate_L", "PupilDilate_R", "browDown_L", "browDown_R", "browInnerUp_L", "browInnerUp_R",
        "browOuterUp_L", "browOuterUp_R", "cheekPuff_L", "cheekPuff_R", "cheekRaiser_L", "cheekRaiser_R",
        "cheekSquint_L", "cheekSquint_R", "eyeBlink_L", "eyeBlink_R", "eyeLookDown_L", "eyeLookDown_R",
        "eyeLookIn_L", "eyeLookIn_R", "eyeLookOut_L", "eyeLookOut_R", "eyeLookUp_L", "eyeLookUp_R",
        "eyeSquint_L", "eyeSquint_R", "eyeWide_L", "eyeWide_R", "jawForward", "jawLeft", "jawOpen",
        "jawRight", "mouthClose", "mouthDimple_L", "mouthDimple_R", "mouthFrown_L", "mouthFrown_R",
        "mouthFunnel", "mouthLeft", "mouthLowerDown_L", "mouthLowerDown_R", "mouthPress_L", "mouthPress_R",
        "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
        "mouthShrugUpper", "mouthSmile_L", "mouthSmile_R", "mouthStretch_L", "mouthStretch_R",
        "mouthUpperUp_L", "mouthUpperUp_R", "noseSneer_L", "noseSneer_R",
    ]

    func match(_ sources: [String], onto shapes: [String]) -> ChannelMapping {
        ChannelMatcher(shapeNames: shapes).match(sources)
    }

    /// The shape names `source` drives.
    func targets(of source: String, in mapping: ChannelMapping) -> [String] {
        guard let index = mapping.sourceNames.firstIndex(of: source) else { return [] }
        return mapping.targets[index].map { mapping.shapeNames[$0] }
    }

    // MARK: Name keys

    @Test(arguments: [
        ("eyeBlinkLeft", "eyeblink", ChannelNameKey.Side.left),
        ("EyeBlinkLeft", "eyeblink", .left),
        ("eyeBlink_L", "eyeblink", .left),
        ("eye_blink_left", "eyeblink", .left),
        ("eyeBlink.L", "eyeblink", .left),
        ("EYE-BLINK-LEFT", "eyeblink", .left),
        ("eye blink left", "eyeblink", .left),
        ("eyeblinkleft", "eyeblink", .left),
        ("eyeBlinkL", "eyeblink", .left),
        ("L_eyeBlink", "eyeblink", .left),
        ("blendShape1.eyeBlinkLeft", "eyeblink", .left),
        ("blendShape.eyeBlink_L", "eyeblink", .left),
        ("ARKit_eyeBlinkLeft", "eyeblink", .left),
        ("head:eyeBlinkLeft", "eyeblink", .left),
        ("mouthSmile_R", "mouthsmile", .right),
        ("mouthSmileRight", "mouthsmile", .right),
        ("mouth_smile_r", "mouthsmile", .right),
        ("eyeLookInRight", "eyelookin", .right),
        ("jaw_L", "jaw", .left),
    ])
    func sidedNamesReduceToBaseAndSide(name: String, base: String, side: ChannelNameKey.Side) {
        #expect(ChannelNameKey(name) == ChannelNameKey(base: base, side: side), "\(name)")
    }

    @Test(arguments: [
        ("jawOpen", "jawopen"), ("JawOpen", "jawopen"), ("jaw_open", "jawopen"), ("JAW_OPEN", "jawopen"),
        ("jawLeft", "jawleft"), ("jawRight", "jawright"), ("mouthLeft", "mouthleft"), ("mouth_right", "mouthright"),
        ("jawleft", "jawleft"), ("MouthLeft", "mouthleft"), ("browInnerUp", "browinnerup"), ("cheekPuff", "cheekpuff"),
        ("blendShape1.mouthClose", "mouthclose"), ("BS_tongueOut", "tongueout"), ("ARKit.jawForward", "jawforward"),
        ("blendshape", "blendshape"), ("L", "l"), ("PupilDilate_L", "pupildilate"),
    ])
    func sidelessNamesKeepTheirDirection(name: String, base: String) {
        let key = ChannelNameKey(name)
        if name == "PupilDilate_L" {
            #expect(key == ChannelNameKey(base: base, side: .left))
        } else {
            #expect(key == ChannelNameKey(base: base, side: nil), "\(name) -> \(String(describing: key))")
        }
    }

    @Test func namesOfSeparatorsOnlyHaveNoKey() {
        #expect(ChannelNameKey("") == nil)
        #expect(ChannelNameKey("_") == nil)
        #expect(ChannelNameKey("-. _") == nil)
        #expect(ChannelNameKey("blendShape1.") == ChannelNameKey(base: "blendshape1", side: nil))
    }

    // MARK: Real name lists

    @Test func arkitMatchesItselfExactly() {
        let mapping = match(ARKitChannels.names, onto: ARKitChannels.names)
        #expect(mapping.targets == ARKitChannels.names.indices.map { [$0] })
        #expect(mapping.drivers.allSatisfy { $0?.kind == .exact })
        #expect(mapping.unmatchedSources.isEmpty)
        #expect(mapping.unmatchedShapes.isEmpty)
    }

    @Test func arkitDrivesLiveLinkAndUnityNames() {
        let capitalised = ARKitChannels.names.map { $0.prefix(1).uppercased() + $0.dropFirst() }
        let reversed = Array(capitalised.reversed())
        let mapping = match(ARKitChannels.names, onto: reversed)
        #expect(mapping.targets == ARKitChannels.names.indices.map { [51 - $0] })
        #expect(mapping.drivers.allSatisfy { $0?.kind == .firstLetterCase })
        // And the other way round.
        let back = match(capitalised, onto: ARKitChannels.names)
        #expect(back.unmatchedSources.isEmpty && back.unmatchedShapes.isEmpty)
    }

    @Test func arkitDrivesICTFaceKit() {
        let mapping = match(ARKitChannels.names, onto: Self.ictFaceKit)
        #expect(targets(of: "eyeBlinkLeft", in: mapping) == ["eyeBlink_L"])
        #expect(targets(of: "eyeBlinkRight", in: mapping) == ["eyeBlink_R"])
        #expect(targets(of: "eyeLookInLeft", in: mapping) == ["eyeLookIn_L"])
        #expect(targets(of: "mouthSmileRight", in: mapping) == ["mouthSmile_R"])
        #expect(targets(of: "mouthUpperUpLeft", in: mapping) == ["mouthUpperUp_L"])
        #expect(targets(of: "noseSneerRight", in: mapping) == ["noseSneer_R"])
        // Directions are whole shapes, matched exactly.
        #expect(targets(of: "jawLeft", in: mapping) == ["jawLeft"])
        #expect(targets(of: "jawRight", in: mapping) == ["jawRight"])
        #expect(targets(of: "mouthLeft", in: mapping) == ["mouthLeft"])
        #expect(targets(of: "mouthRight", in: mapping) == ["mouthRight"])
        // One ARKit channel, two ICT halves.
        #expect(targets(of: "browInnerUp", in: mapping) == ["browInnerUp_L", "browInnerUp_R"])
        #expect(targets(of: "cheekPuff", in: mapping) == ["cheekPuff_L", "cheekPuff_R"])
        let browHalf = Self.ictFaceKit.firstIndex(of: "browInnerUp_R")!
        #expect(mapping.drivers[browHalf] == ShapeDriver(source: ARKitChannels.names.firstIndex(of: "browInnerUp")!, kind: .splitHalf))
        let blink = Self.ictFaceKit.firstIndex(of: "eyeBlink_L")!
        #expect(mapping.drivers[blink]?.kind == .normalized)
        #expect(mapping.drivers[Self.ictFaceKit.firstIndex(of: "jawOpen")!]?.kind == .exact)

        #expect(mapping.unmatchedSources.map { ARKitChannels.names[$0] } == ["tongueOut"])
        #expect(mapping.unmatchedShapes.map { Self.ictFaceKit[$0] } == ["PupilDilate_L", "PupilDilate_R", "cheekRaiser_L", "cheekRaiser_R"])
        #expect(mapping.pairs.count == 53)
    }

    @Test func arkitDrivesSnakeCaseAndPrefixedNames() {
        let shapes = ["eye_blink_left", "eye_blink_right", "jaw_open", "jaw_left", "mouth_right", "mouth_smile_l",
                      "blendShape1.MouthClose", "ARKit_tongueOut", "head:browDownLeft", "cheek_puff_left", "cheek_puff_right"]
        let mapping = match(ARKitChannels.names, onto: shapes)
        #expect(targets(of: "eyeBlinkLeft", in: mapping) == ["eye_blink_left"])
        #expect(targets(of: "eyeBlinkRight", in: mapping) == ["eye_blink_right"])
        #expect(targets(of: "jawOpen", in: mapping) == ["jaw_open"])
        #expect(targets(of: "jawLeft", in: mapping) == ["jaw_left"])
        #expect(targets(of: "mouthRight", in: mapping) == ["mouth_right"])
        #expect(targets(of: "mouthSmileLeft", in: mapping) == ["mouth_smile_l"])
        #expect(targets(of: "mouthClose", in: mapping) == ["blendShape1.MouthClose"])
        #expect(targets(of: "tongueOut", in: mapping) == ["ARKit_tongueOut"])
        #expect(targets(of: "browDownLeft", in: mapping) == ["head:browDownLeft"])
        #expect(targets(of: "cheekPuff", in: mapping) == ["cheek_puff_left", "cheek_puff_right"])
        #expect(mapping.unmatchedShapes.isEmpty)
        #expect(mapping.drivers.allSatisfy { ($0?.kind ?? .exact) >= .normalized })
    }

    // MARK: Rules

    @Test func directionsAreNeverSides() {
        // A rig that splits the jaw into halves: jawLeft (a motion) drives neither.
        let mapping = match(["jawLeft", "jawRight", "mouthLeft", "mouthRight"], onto: ["jaw_L", "jaw_R", "mouth_L", "mouth_R"])
        #expect(mapping.pairs.isEmpty)
        #expect(mapping.unmatchedSources == [0, 1, 2, 3])
        // Other shapes with Left / Right are sides.
        #expect(targets(of: "browDownLeft", in: match(["browDownLeft"], onto: ["browDown_L"])) == ["browDown_L"])
    }

    @Test func splitHalvesAlsoUseTheLeftRightSpelling() {
        let mapping = match(["mouthClose", "browInnerUp"], onto: ["mouthCloseLeft", "mouthCloseRight", "browInnerUp_R"])
        #expect(targets(of: "mouthClose", in: mapping) == ["mouthCloseLeft", "mouthCloseRight"])
        // Only one half in the rig: the channel still drives it.
        #expect(targets(of: "browInnerUp", in: mapping) == ["browInnerUp_R"])
        #expect(mapping.drivers.allSatisfy { $0?.kind == .splitHalf })
    }

    @Test func aWholeShapeBeatsItsHalves() {
        let mapping = match(["browInnerUp"], onto: ["browInnerUp_L", "browInnerUp", "browInnerUp_R"])
        #expect(mapping.targets == [[1]])
        #expect(mapping.unmatchedShapes == [0, 2])
    }

    @Test func sidedChannelsDoNotFeedWholeShapes() {
        // The reverse of a split (two ARKit halves onto one whole shape) is not guessed.
        let mapping = match(["eyeBlinkLeft", "eyeBlinkRight"], onto: ["eyeBlink"])
        #expect(mapping.pairs.isEmpty)
    }

    @Test func exactNamesWinOverLooserOnes() {
        // Both spellings in the rig: the exact one is taken even though the looser one comes first.
        let mapping = match(["eyeBlinkLeft", "jawOpen"], onto: ["eye_blink_left", "eyeBlinkLeft", "JawOpen", "jaw_open"])
        #expect(mapping.targets == [[1], [2]])
        #expect(mapping.drivers[1]?.kind == .exact)
        #expect(mapping.drivers[2]?.kind == .firstLetterCase)
        #expect(mapping.unmatchedShapes == [0, 3])
        // A channel matched exactly elsewhere does not also claim a looser shape.
        let other = match(["JawOpen", "jawOpen"], onto: ["jawOpen"])
        #expect(other.targets == [[], [0]])
    }

    @Test func eachShapeHasAtMostOneDriver() {
        let mapping = match(["jaw_open", "JAW-OPEN", "jawOpen2"], onto: ["jawOpen"])
        #expect(mapping.targets == [[0], [], []])
        #expect(mapping.unmatchedSources == [1, 2])
        #expect(mapping.drivers == [ShapeDriver(source: 0, kind: .normalized)])
    }

    @Test func emptyListsMatchNothing() {
        #expect(match([], onto: ARKitChannels.names).unmatchedShapes.count == 52)
        #expect(match(ARKitChannels.names, onto: []).unmatchedSources.count == 52)
        let odd = match(["", "_"], onto: ["-", ""])
        #expect(odd.targets == [[1], []])
    }
}
