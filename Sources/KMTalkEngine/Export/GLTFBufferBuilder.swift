/// Lays out the binary buffer of a glTF 2.0 asset and describes it: buffer views, each
/// starting at a multiple of 4 bytes, and accessors into them, written as the JSON
/// objects of the document's `bufferViews` and `accessors` arrays.
struct GLTFBufferBuilder {
    /// glTF `componentType` values.
    enum ComponentType: Int {
        case unsignedShort = 5123
        case unsignedInt = 5125
        case float = 5126

        /// Bytes per component.
        var size: Int { self == .unsignedShort ? 2 : 4 }
    }

    /// glTF `bufferView.target` values.
    enum Target: Int {
        case arrayBuffer = 34962
        case elementArrayBuffer = 34963
    }

    /// glTF accessor `type` values.
    enum ElementType: String {
        case scalar = "SCALAR"
        case vec2 = "VEC2"
        case vec3 = "VEC3"

        /// Components per element.
        var components: Int {
            switch self {
            case .scalar: return 1
            case .vec2: return 2
            case .vec3: return 3
            }
        }
    }

    /// The buffer's bytes (the GLB's BIN chunk), a multiple of 4 long once `finish` ran.
    private(set) var binary: ByteBuffer
    /// The `bufferViews` JSON objects.
    private(set) var views: [String] = []
    /// The `accessors` JSON objects.
    private(set) var accessors: [String] = []

    /// Starts an empty buffer with room for `capacity` bytes.
    init(capacity: Int) {
        binary = ByteBuffer(capacity: capacity)
    }

    /// Appends a buffer view whose bytes `write` appends, starting at the next multiple of
    /// 4; returns its index. `byteStride` is required when several vertex accessors share
    /// the view.
    mutating func addView(target: Target?, byteStride: Int? = nil, _ write: (inout ByteBuffer) -> Void) -> Int {
        binary.padToMultiple(of: 4, with: 0)
        let offset = binary.count
        write(&binary)
        var json = "{\"buffer\":0,\"byteOffset\":\(offset),\"byteLength\":\(binary.count - offset)"
        if let byteStride { json += ",\"byteStride\":\(byteStride)" }
        if let target { json += ",\"target\":\(target.rawValue)" }
        views.append(json + "}")
        return views.count - 1
    }

    /// Appends an accessor of `count` elements at `byteOffset` in view `view`; returns its
    /// index. `bounds` (per-component minimum and maximum) is written when given, as the
    /// spec requires for POSITION and animation inputs.
    mutating func addAccessor(
        view: Int, byteOffset: Int = 0, componentType: ComponentType, count: Int, type: ElementType,
        bounds: (min: [Float], max: [Float])? = nil
    ) -> Int {
        var json = "{\"bufferView\":\(view)"
        if byteOffset != 0 { json += ",\"byteOffset\":\(byteOffset)" }
        json += ",\"componentType\":\(componentType.rawValue),\"count\":\(count),\"type\":\"\(type.rawValue)\""
        if let bounds {
            json += ",\"min\":[" + bounds.min.map(NumberText.exact).joined(separator: ",") + "]"
            json += ",\"max\":[" + bounds.max.map(NumberText.exact).joined(separator: ",") + "]"
        }
        accessors.append(json + "}")
        return accessors.count - 1
    }

    /// Appends a sparse accessor of `count` elements that are zero except at the elements
    /// listed at `indicesOffset` in view `indicesView` (`sparseCount` increasing indices of
    /// `indexType`), whose values lie at `valuesOffset` in view `valuesView`; returns its
    /// index. Neither view may have a target or a stride (the spec's rule for sparse data).
    mutating func addSparseAccessor(
        componentType: ComponentType, count: Int, type: ElementType, bounds: (min: [Float], max: [Float]),
        sparseCount: Int, indicesView: Int, indicesOffset: Int, indexType: ComponentType, valuesView: Int, valuesOffset: Int
    ) -> Int {
        var json = "{\"componentType\":\(componentType.rawValue),\"count\":\(count),\"type\":\"\(type.rawValue)\""
        json += ",\"min\":[" + bounds.min.map(NumberText.exact).joined(separator: ",") + "]"
        json += ",\"max\":[" + bounds.max.map(NumberText.exact).joined(separator: ",") + "]"
        json += ",\"sparse\":{\"count\":\(sparseCount)"
        json += ",\"indices\":{\"bufferView\":\(indicesView),\"byteOffset\":\(indicesOffset),\"componentType\":\(indexType.rawValue)}"
        json += ",\"values\":{\"bufferView\":\(valuesView),\"byteOffset\":\(valuesOffset)}}"
        accessors.append(json + "}")
        return accessors.count - 1
    }

    /// Pads the buffer to a multiple of 4 bytes (the BIN chunk's length rule).
    mutating func finish() {
        binary.padToMultiple(of: 4, with: 0)
    }

    /// Per-component minimum and maximum of `values`, `components` floats per element.
    static func bounds(_ values: UnsafeBufferPointer<Float>, components: Int) -> (min: [Float], max: [Float]) {
        var low = [Float](repeating: .infinity, count: components)
        var high = [Float](repeating: -.infinity, count: components)
        var index = 0
        while index + components <= values.count {
            for component in 0..<components {
                let value = values[index + component]
                if value < low[component] { low[component] = value }
                if value > high[component] { high[component] = value }
            }
            index += components
        }
        if values.count < components { return ([Float](repeating: 0, count: components), [Float](repeating: 0, count: components)) }
        return (low, high)
    }
}
