/// The library's version string (kept equal to KMT_VERSION_STRING by a test); exports
/// write it into the files they make.
let libraryVersion: StaticString = "1.0.0"
