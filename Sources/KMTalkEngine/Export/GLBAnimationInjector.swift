/// Writes an animation into a user's own binary glTF (GLB) asset: everything the asset
/// holds (meshes, materials, textures, skins, nodes, cameras, its other animations and
/// extensions) is kept byte for byte, and one animation is added that drives the morph
/// target weights of every node whose mesh has targets named like the animation's
/// channels (`ChannelMatcher`: exact, first-letter case, normalised, split halves).
///
/// - Target names come from `mesh.extras.targetNames` (what Blender, three.js and most
///   exporters write) or, failing that, the first primitive's `extras.targetNames`.
/// - Targets that no channel drives keep the node's rest weights (`node.weights`, else
///   `mesh.weights`, else 0) in every frame, so a character's corrective or expression
///   shapes stay as the artist set them.
/// - The new data (frame times and one weights block per driven node) is appended to the
///   BIN chunk's buffer 0 (created when the asset has none; when buffers[0] is an external
///   or data URI, a new buffer 0 is put in front and every bufferView renumbered).
/// - The animation is named "speech" ("speech 2", ... when the asset already has one)
///   and put first, before the asset's own animations, because importers and viewers
///   activate or play the first one (Blender, model-viewer, Babylon.js, glTFast); its
///   sampler input is the frame times in seconds with min/max, LINEAR.
///
/// Only the GLB container is read; geometry is not decoded, so assets that need
/// extensions the importer does not decode (Draco, meshopt) are fine.
enum GLBAnimationInjector {
    /// One node the animation drives.
    struct DrivenNode: Equatable {
        /// The node's name, or "node N".
        let name: String
        /// Targets driven by a channel.
        let drivenTargets: Int
        /// Targets of its mesh.
        let targetCount: Int
    }

    /// The new GLB and what it drives.
    struct Result {
        let bytes: [UInt8]
        let nodes: [DrivenNode]
        let animationName: String
    }

    /// Adds `animation` to the GLB `asset`; `source` names it in errors. Errors:
    /// KMT_ERR_UNSUPPORTED_FORMAT for a file that is not GLB 2.0; KMT_ERR_CORRUPT_RIG for
    /// a truncated or inconsistent one; KMT_ERR_INVALID_ARGUMENT for an animation without
    /// frames or weights (vertices space), or when no target of the asset matches a
    /// channel (the message lists the asset's target names; a channel map helps).
    static func inject(_ animation: Animation, into asset: [UInt8], source: String) throws -> Result {
        guard animation.template == nil else {
            throw KMTError.invalidArgument("\(source): a vertices-space animation has no blendshape weights to write into an asset; use a blendshape model")
        }
        let frameCount = animation.frameCount
        guard frameCount > 0 else { throw KMTError.invalidArgument("\(source): the animation has no frames") }
        guard GLBContainer.isGLB(asset) else {
            throw KMTError(.unsupportedFormat, "\(source): not a binary glTF (.glb); export the character as GLB (Blender: File > Export > glTF 2.0, Format: glTF Binary)")
        }
        func corrupt(_ detail: String) -> KMTError { .corruptRig("\(source): \(detail)") }
        let container = try GLBContainer(asset, source: source)
        var jsonBytes = container.json
        while let last = jsonBytes.last, last == 0x20 || last == 0 { jsonBytes = jsonBytes.dropLast() }
        var document: JSONValue
        do { document = try JSONParser.parse(jsonBytes) } catch { throw corrupt("malformed glTF JSON: \(error)") }
        guard document.objectValue != nil else { throw corrupt("glTF JSON is not an object") }
        guard let version = document["asset"]?["version"]?.stringValue, version.hasPrefix("2.") else {
            throw KMTError(.unsupportedFormat, "\(source): not glTF 2.x (asset.version \(document["asset"]?["version"]?.stringValue ?? "missing"))")
        }

        // Which nodes to drive, and their rest weights.
        let meshes = document["meshes"]?.arrayValue ?? []
        let nodes = document["nodes"]?.arrayValue ?? []
        var plans: [(node: Int, name: String, drivers: [Int?], rest: [Float])] = []
        var unmatched: [String] = []
        var matchers: [Int: (names: [String], drivers: [Int?])] = [:]
        for (nodeIndex, node) in nodes.enumerated() {
            guard let meshIndex = node["mesh"]?.integerValue else { continue }
            guard meshIndex >= 0, meshIndex < meshes.count else {
                throw corrupt("nodes[\(nodeIndex)] refers to mesh \(meshIndex), which does not exist (\(meshes.count) meshes)")
            }
            let mesh = meshes[meshIndex]
            let targetCount = mesh["primitives"]?.arrayValue?.first?["targets"]?.arrayValue?.count ?? 0
            guard targetCount > 0 else { continue }
            let nodeName = node["name"]?.stringValue ?? "node \(nodeIndex)"
            if matchers[meshIndex] == nil {
                let names = (mesh["extras"]?["targetNames"] ?? mesh["primitives"]?.arrayValue?.first?["extras"]?["targetNames"])?
                    .arrayValue?.compactMap(\.stringValue) ?? []
                guard names.count == targetCount else {
                    Log.warning("\(source): mesh \(mesh["name"]?.stringValue ?? String(meshIndex)) has \(targetCount) morph targets but \(names.count) target names; it is left as it is")
                    matchers[meshIndex] = ([], [Int?](repeating: nil, count: targetCount))
                    continue
                }
                let mapping = ChannelMatcher(shapeNames: names).match(animation.channelNames)
                matchers[meshIndex] = (names, mapping.drivers.map { $0?.source })
            }
            let (names, drivers) = matchers[meshIndex]!
            guard drivers.contains(where: { $0 != nil }) else {
                if !names.isEmpty { unmatched.append("\(nodeName) [\(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", ..." : "")]") }
                continue
            }
            var rest = [Float](repeating: 0, count: targetCount)
            if let weights = (node["weights"] ?? mesh["weights"])?.arrayValue?.compactMap(\.doubleValue), weights.count == targetCount {
                rest = weights.map { Float($0) }
            }
            plans.append((nodeIndex, nodeName, drivers, rest))
        }
        guard !plans.isEmpty else {
            let found = unmatched.isEmpty ? "it has no mesh with named morph targets" : "its meshes' targets are " + unmatched.joined(separator: "; ")
            throw KMTError.invalidArgument("\(source): no morph target matches a channel of the animation (\(animation.channelNames.prefix(4).joined(separator: ", ")), ...); \(found). Name the shapes after ARKit or use a channel map (kmt_animation_remap, kmtalk animate --map)")
        }

        // The buffer the new data goes to: the BIN chunk, as buffer 0.
        var buffers = document["buffers"]?.arrayValue ?? []
        var views = document["bufferViews"]?.arrayValue ?? []
        var binary: [UInt8]
        if let first = buffers.first, first["uri"] == nil {
            guard let length = first["byteLength"]?.integerValue, length >= 0, let chunk = container.binary, chunk.count >= length else {
                throw corrupt("buffers[0] uses the BIN chunk but the chunk is missing or shorter than its byteLength")
            }
            binary = Array(chunk.prefix(length))
        } else {
            binary = []
            if !buffers.isEmpty {
                // buffers[0] is a URI: put a BIN-backed buffer in front, renumber the views.
                views = try views.enumerated().map { index, view in
                    guard let buffer = view["buffer"]?.integerValue else { throw corrupt("bufferViews[\(index)] has no buffer") }
                    return view.setting("buffer", .integer(buffer + 1))
                }
            }
            buffers.insert(.object([("byteLength", .integer(0))]), at: 0)
        }
        var accessors = document["accessors"]?.arrayValue ?? []

        /// Appends `floats` as a new view and accessor; returns the accessor's index.
        func addFloats(_ floats: [Float], bounds: (Float, Float)?) -> Int {
            while binary.count % 4 != 0 { binary.append(0) }
            let offset = binary.count
            for value in floats {
                let bits = value.bitPattern
                binary += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                           UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
            }
            views.append(.object([("buffer", .integer(0)), ("byteOffset", .integer(offset)), ("byteLength", .integer(floats.count * 4))]))
            var accessor: [(key: String, value: JSONValue)] = [
                ("bufferView", .integer(views.count - 1)), ("componentType", .integer(5126)),
                ("count", .integer(floats.count)), ("type", .string("SCALAR")),
            ]
            if let (low, high) = bounds {
                accessor.append(("min", .array([.float(low)])))
                accessor.append(("max", .array([.float(high)])))
            }
            accessors.append(.object(accessor))
            return accessors.count - 1
        }

        let times = (0..<frameCount).map { Float(Double($0) / animation.fps) }
        let input = addFloats(times, bounds: (times[0], times[frameCount - 1]))
        let channelCount = animation.channelCount
        var samplers: [JSONValue] = []
        var channels: [JSONValue] = []
        animation.values.data.withUnsafeBufferPointer { values in
            for plan in plans {
                let targetCount = plan.drivers.count
                var weights = [Float](repeating: 0, count: frameCount * targetCount)
                for frame in 0..<frameCount {
                    for target in 0..<targetCount {
                        weights[frame * targetCount + target] = plan.drivers[target].map { values[frame * channelCount + $0] } ?? plan.rest[target]
                    }
                }
                let output = addFloats(weights, bounds: nil)
                samplers.append(.object([("input", .integer(input)), ("output", .integer(output)), ("interpolation", .string("LINEAR"))]))
                channels.append(.object([
                    ("sampler", .integer(samplers.count - 1)),
                    ("target", .object([("node", .integer(plan.node)), ("path", .string("weights"))])),
                ]))
            }
        }
        while binary.count % 4 != 0 { binary.append(0) }
        buffers[0] = buffers[0].setting("byteLength", .integer(binary.count))

        var animations = document["animations"]?.arrayValue ?? []
        let taken = Set(animations.compactMap { $0["name"]?.stringValue })
        var name = "speech"
        var suffix = 2
        while taken.contains(name) { name = "speech \(suffix)"; suffix += 1 }
        // First: importers and viewers play or activate the first animation (Blender,
        // model-viewer, Babylon.js, glTFast); no core glTF object refers to an animation's index.
        animations.insert(.object([("name", .string(name)), ("channels", .array(channels)), ("samplers", .array(samplers))]), at: 0)

        document = document.setting("buffers", .array(buffers))
            .setting("bufferViews", .array(views))
            .setting("accessors", .array(accessors))
            .setting("animations", .array(animations))
        let bytes = try GLBChunkWriter.encode(json: JSONText.serialized(document), binary: binary)
        let driven = plans.map { DrivenNode(name: $0.name, drivenTargets: $0.drivers.count { $0 != nil }, targetCount: $0.drivers.count) }
        return Result(bytes: bytes, nodes: driven, animationName: name)
    }
}
