extension VertexTemplate {
    /// The template of a vertices-space model, taken from its weights (`motion.template`
    /// F32 [V, 3], finite; `motion.faces` I32 [F, 3] with F >= 1 and indices in 0..<V,
    /// optional). Errors: KMT_ERR_CORRUPT_MODEL naming `source` and the tensor.
    init(weights: inout WeightStore, motion: MotionConfig, source: String) throws {
        func corrupt(_ detail: String) -> KMTError { .corruptModel("\(source): \(detail)") }
        let vertexCount = motion.channels.count / 3
        let vertices = try weights.requireFloat32(
            Self.verticesTensor, shape: [vertexCount, 3],
            why: "motion.space 'vertices' with \(motion.channels.count) channels needs its template")
        var faces: [Int32] = []
        if let indices = try weights.optionalIntegers(Self.facesTensor, dtype: .i32) {
            guard indices.shape.count == 2, indices.shape[1] == 3, indices.shape[0] >= 1 else {
                throw corrupt("tensor '\(Self.facesTensor)' has shape \(indices.shape), expected [F, 3] with F >= 1")
            }
            if let bad = indices.data.firstIndex(where: { $0 < 0 || $0 >= vertexCount }) {
                throw corrupt("tensor '\(Self.facesTensor)': face \(bad / 3) refers to vertex \(indices.data[bad]), outside 0..<\(vertexCount)")
            }
            faces = indices.data.map { Int32(truncatingIfNeeded: $0) }
        }
        self.vertexCount = vertexCount
        self.vertices = vertices.data
        self.faces = faces
        self.units = motion.units
    }
}
