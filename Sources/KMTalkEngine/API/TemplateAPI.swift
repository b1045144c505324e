import CKMTalk

/// The template mesh a vertices-space animation carries, or nil (NULL handle, or an
/// animation of blendshape weights).
private func template(_ handle: OpaquePointer?) -> VertexTemplate? {
    handle.flatMap { Handle.borrow($0, as: Animation.self).template }
}

/// Implements `kmt_animation_vertex_count` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_vertex_count(_ handle: OpaquePointer?) -> Int {
    template(handle)?.vertexCount ?? 0
}

/// Implements `kmt_animation_read_faces` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_read_faces(
    _ handle: OpaquePointer?, _ buffer: UnsafeMutablePointer<Int32>?, _ bufferLength: Int,
    _ outWritten: UnsafeMutablePointer<Int>?
) -> kmt_status {
    outWritten?.pointee = 0
    return apiCall {
        guard let handle else { throw KMTError.invalidArgument("animation is NULL") }
        guard let template = Handle.borrow(handle, as: Animation.self).template else {
            throw KMTError.invalidArgument("the animation holds blendshape weights and has no mesh of its own (only animations of vertices-space models do; a rig's faces come from kmt_rig_read_faces)")
        }
        try copyToCallerBuffer(template.faces, buffer, capacity: bufferLength, outCount: outWritten, unit: "indices")
    }
}
