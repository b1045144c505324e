/// How a model's channels drive a character whose shapes have other names or split and
/// combine differently (Character Creator, VRM visemes, Daz, a studio's own rig): each
/// target shape is a weighted sum of model channels, read from a JSON channel map
/// (docs/rig.md, "Channel maps"):
///
///     {
///       "channels": {
///         "jawOpen": "Mouth_Open",
///         "mouthSmileLeft": {"Mouth_Smile_L": 1.0, "Cheek_Raise_L": 0.3},
///         "eyeBlinkLeft": ["Eye_Blink_L", "Eye_Squint_L"]
///       },
///       "keep_unmapped": false,
///       "clamp": true
///     }
///
/// A target named by several channels gets the sum of their contributions. Targets come
/// out in the order the map first names them, then (with `keep_unmapped`) the model
/// channels the map does not mention, under their own names. `clamp` (default true)
/// keeps the results within 0...1, as blendshape weights are.
struct ChannelMap: Sendable {
    /// One contribution: `weight` x source channel `source` into target `target`.
    struct Term: Sendable, Equatable {
        let source: String
        let target: String
        let weight: Float
    }

    let terms: [Term]
    let keepUnmapped: Bool
    let clamp: Bool

    /// Largest |weight| accepted (a guard against typos such as 100 for 1.00).
    static let maximumWeight: Float = 10

    /// Parses a channel map's JSON text. Errors: KMT_ERR_INVALID_ARGUMENT naming what is
    /// wrong (not JSON, no `channels` object, a target that is not a name, a list of names
    /// or an object of finite weights, an unknown key).
    init(json text: String) throws {
        let root: JSONValue
        do {
            root = try JSONParser.parse(text)
        } catch let error as JSONParseError {
            throw KMTError.invalidArgument("channel map: not JSON (\(error))")
        }
        guard let members = root.objectValue else { throw KMTError.invalidArgument("channel map: the top level must be an object") }
        for (key, _) in members where !["channels", "keep_unmapped", "clamp"].contains(key) {
            throw KMTError.invalidArgument("channel map: unknown key '\(key)' (channels, keep_unmapped, clamp)")
        }
        guard let channels = root["channels"]?.objectValue else {
            throw KMTError.invalidArgument("channel map: 'channels' must be an object of model channel -> target shapes")
        }
        func flag(_ key: String, default value: Bool) throws -> Bool {
            guard let member = root[key] else { return value }
            guard case let .bool(set) = member else { throw KMTError.invalidArgument("channel map: '\(key)' must be true or false") }
            return set
        }
        keepUnmapped = try flag("keep_unmapped", default: false)
        clamp = try flag("clamp", default: true)
        var terms: [Term] = []
        var seen = Set<String>()
        for (source, value) in channels {
            guard seen.insert(source).inserted else { throw KMTError.invalidArgument("channel map: channel '\(source)' appears twice") }
            func term(_ target: String, _ weight: Float) throws -> Term {
                guard !target.isEmpty else { throw KMTError.invalidArgument("channel map: '\(source)' names an empty target") }
                guard weight.isFinite, abs(weight) <= Self.maximumWeight else {
                    throw KMTError.invalidArgument("channel map: weight \(weight) of '\(source)' -> '\(target)' is outside -\(Self.maximumWeight)...\(Self.maximumWeight)")
                }
                return Term(source: source, target: target, weight: weight)
            }
            switch value {
            case let .string(target):
                terms.append(try term(target, 1))
            case let .array(targets):
                for target in targets {
                    guard let name = target.stringValue else {
                        throw KMTError.invalidArgument("channel map: '\(source)' lists a target that is not a name")
                    }
                    terms.append(try term(name, 1))
                }
            case let .object(weights):
                for (target, weight) in weights {
                    guard let number = weight.doubleValue else {
                        throw KMTError.invalidArgument("channel map: the weight of '\(source)' -> '\(target)' is not a number")
                    }
                    terms.append(try term(target, Float(number)))
                }
            default:
                throw KMTError.invalidArgument("channel map: '\(source)' must map to a name, a list of names or an object of weights")
            }
        }
        guard !terms.isEmpty || keepUnmapped else { throw KMTError.invalidArgument("channel map: 'channels' maps nothing") }
        self.terms = terms
    }

    /// The map applied to `animation`: a new animation of the target channels (same fps,
    /// provenance and phones). Errors: KMT_ERR_INVALID_ARGUMENT for a map naming a channel
    /// the animation does not have, a kept channel whose name is also a target, or a
    /// vertices-space animation (its channels are coordinates, not shapes).
    func apply(to animation: Animation) throws -> Animation {
        guard animation.template == nil else {
            throw KMTError.invalidArgument("channel map: a vertices-space animation has coordinates, not shapes, to map")
        }
        let sources = animation.channelNames
        var sourceIndex: [String: Int] = [:]
        for (index, name) in sources.enumerated() where sourceIndex[name] == nil { sourceIndex[name] = index }
        var targets: [String] = []
        var targetIndex: [String: Int] = [:]
        var resolved: [(source: Int, target: Int, weight: Float)] = []
        for term in terms {
            guard let source = sourceIndex[term.source] else {
                throw KMTError.invalidArgument("channel map: the animation has no channel '\(term.source)'")
            }
            let target = targetIndex[term.target] ?? {
                targets.append(term.target)
                targetIndex[term.target] = targets.count - 1
                return targets.count - 1
            }()
            resolved.append((source, target, term.weight))
        }
        if keepUnmapped {
            let mapped = Set(terms.map(\.source))
            for (index, name) in sources.enumerated() where !mapped.contains(name) {
                guard targetIndex[name] == nil else {
                    throw KMTError.invalidArgument("channel map: kept channel '\(name)' is also a target; map it explicitly")
                }
                targets.append(name)
                targetIndex[name] = targets.count - 1
                resolved.append((index, targets.count - 1, 1))
            }
        }
        let frames = animation.frameCount, width = sources.count, count = targets.count
        var values = [Float](repeating: 0, count: frames * count)
        animation.values.data.withUnsafeBufferPointer { input in
            for frame in 0..<frames {
                let row = frame * width, out = frame * count
                for term in resolved { values[out + term.target] += term.weight * input[row + term.source] }
            }
        }
        if clamp { for index in values.indices { values[index] = min(max(values[index], 0), 1) } }
        return Animation(
            values: Tensor(shape: [frames, count], data: values), fps: animation.fps, channelNames: targets,
            source: animation.source, model: animation.model, phones: animation.phones,
            mouthCueThresholds: animation.mouthCueThresholds)
    }
}
