import CKMTalk

/// Implements `kmt_animation_vertex_count` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_animation_vertex_count(_ handle: OpaquePointer?, _ outCount: UnsafeMutablePointer<Int>?) -> kmt_status {
    outCount?.pointee = 0
    return apiCall {
        guard let handle else { throw KMTError.invalidArgument("animation is NULL") }
        let out = try requireOut(outCount, "out_count")
        // An animation of blendshape weights carries no template: 0 vertices.
        out.pointee = Handle.borrow(handle, as: Animation.self).template?.vertexCount ?? 0
    }
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
