/// What decoding does with non-finite (NaN, infinite) or absurd samples: refuse the audio
/// (`reject`, the default) or replace them with silence (`zero`). The API maps
/// `kmt_nonfinite_policy` onto it.
enum NonFinitePolicy: Sendable, Equatable {
    case reject
    case zero
}
