/// A growing byte array that exporters append text and little-endian binary values to.
/// Written without Foundation; the layout helpers (`padToMultiple`) keep binary formats'
/// alignment rules in one place.
struct ByteBuffer {
    /// The bytes written so far.
    private(set) var bytes: [UInt8] = []

    /// Creates an empty buffer with room for `capacity` bytes.
    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Number of bytes written so far.
    var count: Int { bytes.count }

    /// Appends the UTF-8 bytes of `text`.
    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends raw bytes.
    mutating func append(bytes other: [UInt8]) {
        bytes.append(contentsOf: other)
    }

    /// Appends one byte.
    mutating func append(byte: UInt8) {
        bytes.append(byte)
    }

    /// Appends `value` as 4 little-endian bytes.
    mutating func append(uint32 value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends `value` as 2 little-endian bytes.
    mutating func append(uint16 value: UInt16) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends `value` as 4 little-endian bytes.
    mutating func append(int32 value: Int32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends `value` as an IEEE 754 binary32 in little-endian byte order.
    mutating func append(float value: Float) {
        append(uint32: value.bitPattern)
    }

    /// Appends every float of `values` as little-endian binary32.
    mutating func append(floats values: UnsafeBufferPointer<Float>) {
        #if _endian(little)
        bytes.append(contentsOf: UnsafeRawBufferPointer(values))
        #else
        for value in values { append(float: value) }
        #endif
    }

    /// Appends every float of `values` as little-endian binary32.
    mutating func append(floats values: [Float]) {
        values.withUnsafeBufferPointer { append(floats: $0) }
    }

    /// Appends `filler` until the count is a multiple of `alignment`.
    mutating func padToMultiple(of alignment: Int, with filler: UInt8) {
        while bytes.count % alignment != 0 { bytes.append(filler) }
    }

    /// Overwrites 4 bytes at `offset` with `value`, little-endian (for lengths known
    /// only after the fact).
    mutating func set(uint32 value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { source in
            for index in 0..<4 { bytes[offset + index] = source[index] }
        }
    }
}
