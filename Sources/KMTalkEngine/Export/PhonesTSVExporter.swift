/// Writes the phones a key-motion model recognized (`Animation.phones`) as tab-separated
/// text: a header line, then one line per segment with its start and end in seconds
/// (three decimals), the phone (the model's inventory: IPA symbols, `_` for a pause) and
/// its mean posterior (three decimals):
///
///     start	end	phone	confidence
///     0.000	0.060	_	0.981
///     0.060	0.140	h	0.742
///     ...
///
/// Segments are contiguous and cover the audio from 0 to its native frame span.
enum PhonesTSVExporter {
    /// The TSV text. Errors: KMT_ERR_INVALID_ARGUMENT when the animation has no phone track
    /// (a model without a phone head).
    static func encode(_ animation: Animation) throws -> [UInt8] {
        guard let track = animation.phones else {
            throw KMTError.invalidArgument("this animation has no phone track: only key-motion models (architecture 'kmtalk' with a phone head) recognize phones")
        }
        var out = ByteBuffer(capacity: 32 * (track.segments.count + 1))
        out.append("start\tend\tphone\tconfidence\n")
        for segment in track.segments {
            out.append(NumberText.fixed(segment.start, decimals: 3) + "\t" + NumberText.fixed(segment.end, decimals: 3) + "\t")
            out.append(segment.phone + "\t" + NumberText.fixed(Double(segment.confidence), decimals: 3) + "\n")
        }
        return out.bytes
    }
}
