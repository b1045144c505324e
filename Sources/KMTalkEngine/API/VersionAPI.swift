import CKMTalk

/// Implements `kmt_version` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_version() -> UnsafePointer<CChar>? {
    UnsafeRawPointer(libraryVersion.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Implements `kmt_version_number` from include/kmtalk.h, which documents it.
@c @implementation
public func kmt_version_number() -> Int32 {
    Int32(KMT_VERSION_MAJOR * 10000 + KMT_VERSION_MINOR * 100 + KMT_VERSION_PATCH)
}
