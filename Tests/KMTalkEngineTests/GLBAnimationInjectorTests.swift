import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// `GLBAnimationInjector` and `kmt_animation_save_into_glb`: an animation written into a
/// user's own multi-mesh GLB keeps everything the asset held and drives the named targets.
@Suite struct GLBAnimationInjectorTests {
    var lastError: String { String(cString: kmt_last_error()) }

    /// A character asset: a head whose 3 targets are jawOpen, mouthSmile_L (a split half)
    /// and a custom shape at rest weight 0.25; a skinned body without targets, its bone, a
    /// camera, a material, and an existing "speech" animation moving the bone.
    /// `uriBuffer`: buffer 0 is a base64 data URI instead of the BIN chunk.
    static func heroAsset(uriBuffer: Bool = false, targetNames: [String] = ["jawOpen", "mouthSmile_L", "customBlink"]) -> (bytes: [UInt8], json: String) {
        var builder = GLTFTestBuilder()
        let positions = builder.floats([0, 0, 0, 1, 0, 0, 0, 1, 0], type: "VEC3")
        let indices = builder.indices([0, 1, 2])
        let targets = (0..<3).map { t in builder.floats([0, 0, Float(t + 1) * 0.01, 0, 0, 0, 0, 0, 0], type: "VEC3") }
        let joints = builder.accessor("{\"bufferView\":\(builder.view([UInt8](repeating: 0, count: 12))),\"componentType\":5121,\"count\":3,\"type\":\"VEC4\"}")
        let jointWeights = builder.floats([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], type: "VEC4")
        let identity: [Float] = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
        let identityView = builder.view(identity.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        let inverseBind = builder.accessor("{\"bufferView\":\(identityView),\"componentType\":5126,\"count\":1,\"type\":\"MAT4\"}")
        let boneTimes = builder.floats([0, 1], type: "SCALAR")
        let boneMoves = builder.floats([0, 0, 0, 0, 0.1, 0], type: "VEC3")
        let targetList = targets.map { "{\"POSITION\":\($0)}" }.joined(separator: ",")
        let names = targetNames.map { "\"\($0)\"" }.joined(separator: ",")
        let meshes = """
            [{"name":"Head","primitives":[{"attributes":{"POSITION":\(positions)},"indices":\(indices),"material":0,"targets":[\(targetList)]}],\
            "weights":[0,0,0.25],"extras":{"targetNames":[\(names)]}},\
            {"name":"Body","primitives":[{"attributes":{"POSITION":\(positions),"JOINTS_0":\(joints),"WEIGHTS_0":\(jointWeights)},"material":1}]}]
            """
        let nodes = """
            [{"name":"Head","mesh":0},{"name":"Body","mesh":1,"skin":0},{"name":"Bone","translation":[0,1,0]},\
            {"name":"Camera","camera":0,"extras":{"note":"keep me"}}]
            """
        let extra = """
            ,"materials":[{"name":"skin","pbrMetallicRoughness":{"baseColorFactor":[0.8,0.6,0.5,1],"metallicFactor":0},\
            "extensions":{"KHR_materials_emissive_strength":{"emissiveStrength":2.5}}},{"name":"cloth"}],\
            "extensionsUsed":["KHR_materials_emissive_strength"],\
            "skins":[{"joints":[2],"inverseBindMatrices":\(inverseBind)}],\
            "cameras":[{"type":"perspective","perspective":{"yfov":0.7,"znear":0.01}}],\
            "animations":[{"name":"speech","samplers":[{"input":\(boneTimes),"output":\(boneMoves)}],\
            "channels":[{"sampler":0,"target":{"node":2,"path":"translation"}}]}],\
            "extras":{"big":12345678901234567890,"exact":0.1000000000000000055511151231257827}
            """
        let json = builder.json(meshes: meshes, nodes: nodes, extra: extra, uri: uriBuffer ? builder.dataURI : nil)
        return (builder.glb(json: json), json)
    }

    /// The parsed JSON of a GLB's first chunk.
    static func document(_ bytes: [UInt8]) throws -> GLTFDocument {
        try GLTFDocument(bytes: bytes, source: "out.glb", folder: nil)
    }

    @Test func keepsEveryMemberAndDrivesTheNamedTargets() throws {
        let (asset, originalText) = Self.heroAsset()
        let original = try JSONParser.parse(originalText)
        let animation = ExportFixtures.animation(frames: 9, fps: 30)
        let result = try GLBAnimationInjector.inject(animation, into: asset, source: "hero.glb")
        #expect(result.animationName == "speech 2")
        #expect(result.nodes == [.init(name: "Head", drivenTargets: 2, targetCount: 3)])
        let document = try Self.document(result.bytes)
        let json = document.json

        // Everything but the four grown arrays is unchanged; the views and accessors keep
        // their old entries first, the animations after the new one.
        let grown: Set<String> = ["buffers", "bufferViews", "accessors", "animations"]
        for member in try #require(original.objectValue) {
            if grown.contains(member.key) {
                let before = try #require(member.value.arrayValue)
                let after = try #require(json[member.key]?.arrayValue)
                if member.key == "animations" { #expect(Array(after.dropFirst()) == before) }
                if member.key != "buffers" && member.key != "animations" { #expect(Array(after.prefix(before.count)) == before, "\(member.key)") }
            } else {
                #expect(json[member.key] == member.value, "\(member.key)")
            }
        }
        // Numbers are written back with their literal text.
        #expect(JSONText.serialized(try #require(json["extras"])) == "{\"big\":12345678901234567890,\"exact\":0.1000000000000000055511151231257827}")
        // The old bytes are the new buffer's prefix, so old accessors read the same.
        let oldContainer = try GLBContainer(asset, source: "hero.glb")
        let oldBuffer = Array(try #require(oldContainer.binary))
        let oldLength = try #require(original["buffers"]?.arrayValue?.first?["byteLength"]?.integerValue)
        #expect(Array(document.buffers[0].prefix(oldLength)) == Array(oldBuffer.prefix(oldLength)))
        #expect(document.buffers[0].count % 4 == 0)

        // The new animation: one weights channel on the head, LINEAR, times with bounds.
        let animations = try #require(json["animations"]?.arrayValue)
        #expect(animations.count == 2)
        let added = animations[0]
        #expect(added["name"]?.stringValue == "speech 2")
        let channel = try #require(added["channels"]?.arrayValue?.first)
        #expect(channel["target"]?["node"]?.integerValue == 0 && channel["target"]?["path"]?.stringValue == "weights")
        let sampler = try #require(added["samplers"]?.arrayValue?.first)
        #expect(sampler["interpolation"]?.stringValue == "LINEAR")
        let inputIndex = try #require(sampler["input"]?.integerValue)
        let times = try document.floats(accessor: inputIndex, types: ["SCALAR"], what: "times")
        #expect(times.values == (0..<9).map { Float(Double($0) / 30) })
        let inputAccessor = try #require(json["accessors"]?.arrayValue?[inputIndex])
        #expect(inputAccessor["min"]?.arrayValue?.first?.doubleValue == 0)
        #expect(inputAccessor["max"]?.arrayValue?.first?.doubleValue == Double(Float(8.0 / 30)))
        let weights = try document.floats(accessor: try #require(sampler["output"]?.integerValue), types: ["SCALAR"], what: "weights")
        #expect(weights.count == 9 * 3)
        for frame in 0..<9 {
            #expect(weights.values[frame * 3] == ExportFixtures.value(animation, frame: frame, channel: "jawOpen"))
            #expect(weights.values[frame * 3 + 1] == ExportFixtures.value(animation, frame: frame, channel: "mouthSmileLeft"))
            #expect(weights.values[frame * 3 + 2] == 0.25, "an undriven target keeps its rest weight")
        }
        // The old animation still reads.
        let oldOutput = try document.floats(accessor: try #require(animations[1]["samplers"]?.arrayValue?.first?["output"]?.integerValue), types: ["VEC3"], what: "bone")
        #expect(oldOutput.values == [0, 0, 0, 0, 0.1, 0])
    }

    @Test func aURIBufferStaysAndTheBINChunkComesFirst() throws {
        let (asset, originalText) = Self.heroAsset(uriBuffer: true)
        let original = try JSONParser.parse(originalText)
        let animation = ExportFixtures.animation(frames: 4, fps: 60)
        let result = try GLBAnimationInjector.inject(animation, into: asset, source: "hero.glb")
        let document = try Self.document(result.bytes)
        let buffers = try #require(document.json["buffers"]?.arrayValue)
        #expect(buffers.count == 2)
        #expect(buffers[0]["uri"] == nil && buffers[1] == original["buffers"]?.arrayValue?[0])
        let oldViews = try #require(original["bufferViews"]?.arrayValue)
        let newViews = try #require(document.json["bufferViews"]?.arrayValue)
        for (before, after) in zip(oldViews, newViews) {
            #expect(after["buffer"]?.integerValue == 1)
            #expect(after["byteOffset"] == before["byteOffset"] && after["byteLength"] == before["byteLength"])
        }
        // The head's positions still read from the data URI.
        let positions = try document.floats(accessor: 0, types: ["VEC3"], what: "positions")
        #expect(positions.values == [0, 0, 0, 1, 0, 0, 0, 1, 0])
        #expect(result.nodes.count == 1)
    }

    @Test func refusesWhatItCannotDrive() throws {
        let animation = ExportFixtures.animation(frames: 3)
        let unnamed = Self.heroAsset(targetNames: ["Smile", "Frown", "Blink"]).bytes
        #expect {
            try GLBAnimationInjector.inject(animation, into: unnamed, source: "hero.glb")
        } throws: { error in
            let error = error as? KMTError
            return error?.kind == .invalidArgument && error?.message.contains("Head [Smile, Frown, Blink]") == true
                && error?.message.contains("channel map") == true
        }
        let asset = Self.heroAsset().bytes
        #expect(throws: KMTError.self) { try GLBAnimationInjector.inject(animation, into: Array("{\"asset\":{}}".utf8), source: "a.gltf") }
        #expect {
            try GLBAnimationInjector.inject(animation, into: Array(asset.prefix(asset.count - 40)), source: "cut.glb")
        } throws: { ($0 as? KMTError)?.kind == .corruptRig }
        let empty = Animation(values: Tensor(shape: [0, 2], data: []), fps: 30, channelNames: ["jawOpen", "mouthClose"])
        #expect(throws: KMTError.self) { try GLBAnimationInjector.inject(empty, into: asset, source: "hero.glb") }
    }

    @Test func theCFunctionWritesAtomicallyAndChecksItsArguments() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let assetPath = directory.appendingPathComponent("hero.glb").path
        let outputPath = directory.appendingPathComponent("hero-talking.glb").path
        try Data(Self.heroAsset().bytes).write(to: URL(fileURLWithPath: assetPath))
        let animation = Handle.retain(ExportFixtures.animation(frames: 5))
        defer { kmt_animation_free(animation) }

        #expect(kmt_animation_save_into_glb(nil, assetPath, outputPath) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animation_save_into_glb(animation, nil, outputPath) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("asset_path"))
        #expect(kmt_animation_save_into_glb(animation, assetPath, nil) == KMT_ERR_INVALID_ARGUMENT)
        #expect(kmt_animation_save_into_glb(animation, directory.appendingPathComponent("missing.glb").path, outputPath) == KMT_ERR_IO)
        #expect(!FileManager.default.fileExists(atPath: outputPath))

        #expect(kmt_animation_save_into_glb(animation, assetPath, outputPath) == KMT_OK, "\(lastError)")
        let written = [UInt8](try Data(contentsOf: URL(fileURLWithPath: outputPath)))
        #expect(written == (try GLBAnimationInjector.inject(Handle.borrow(animation, as: Animation.self), into: Self.heroAsset().bytes, source: "x").bytes))
        // In place: the asset itself becomes the animated one, and a second pass adds "speech 3".
        #expect(kmt_animation_save_into_glb(animation, outputPath, outputPath) == KMT_OK, "\(lastError)")
        let twice = try Self.document([UInt8](try Data(contentsOf: URL(fileURLWithPath: outputPath))))
        #expect(twice.json["animations"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["speech 3", "speech 2", "speech"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["hero-talking.glb", "hero.glb"])
    }
}
