// SPDX-License-Identifier: MIT
// kmtalk.hpp -- header-only C++17 wrapper of the KMTalk C API (include/kmtalk.h).
//
//     #include "kmtalk.hpp"
//
//     kmtalk::Model model("models/kmtalk-base.safetensors");
//     kmtalk::Session session(model, {/*threads*/ 0, /*output_fps*/ 60.0});
//     kmtalk::Animation anim = session.animate_file("speech.wav");
//     std::vector<float> weights = anim.frames();   // frame_count() x channel_count()
//     anim.save("speech.json");
//
// Design:
// - Model, Session, Animation and Rig own one C handle each (std::unique_ptr
//   with the matching kmt_*_free as deleter). They are move-only; a moved-from
//   object is empty (explicit operator bool is false, get() is nullptr) and
//   safe to destroy or assign to. Calls on an empty object behave as the C
//   functions do on NULL: accessors and other calls alike throw kmtalk::Error
//   with KMT_ERR_INVALID_ARGUMENT ("model is NULL"); Session::channel_count()
//   alone, which the wrapper keeps itself, gives 0.
// - Every kmt_status other than KMT_OK becomes a kmtalk::Error carrying the
//   status and the kmt_last_error() text, captured right after the failing
//   call on the calling thread (kmt_last_error() is per thread and valid only
//   until the next KMTalk call). Building the exception makes no further
//   KMTalk call, so kmt_last_error() still holds the message in a catch block.
// - Lifetimes (from kmtalk.h's OWNERSHIP section): a session keeps its model
//   alive, so a Model may be destroyed before the Sessions created from it.
//   An Animation is a separate object freed by kmt_animation_free on its own;
//   it may outlive the Session and Model that produced it. Strings are copied
//   into std::string, so none of them dangles.
// - Thread safety is the C API's (see kmtalk.h, THREAD SAFETY): Model, Rig and
//   Animation are immutable and shareable between threads; a Session is used
//   from one thread at a time. The wrapper adds no locks and no shared state.
//
// Dependencies: the C++17 standard library and kmtalk.h (which has its own
// extern "C" guards). Link with -lKMTalk.
#ifndef KMTALK_HPP
#define KMTALK_HPP

#include "kmtalk.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if (__cplusplus >= 202002L || (defined(_MSVC_LANG) && _MSVC_LANG >= 202002L)) && \
    defined(__has_include)
#if __has_include(<span>)
#include <span>
#if defined(__cpp_lib_span) && __cpp_lib_span >= 202002L
/** Defined to 1 when the wrapper also accepts std::span (C++20). */
#define KMTALK_HPP_HAS_SPAN 1
#endif
#endif
#endif

namespace kmtalk {

/** The C status code (kmt_status), spelled the C++ way. */
using Status = kmt_status;
/** File formats of Animation::save() and Animation::save_to_memory() (kmt_export_format). */
using ExportFormat = kmt_export_format;
/** Positions or offsets from Animation::vertices() (kmt_vertex_mode). */
using VertexMode = kmt_vertex_mode;

/**
 * The enumerator name of a status code, for example "KMT_ERR_IO";
 * "KMT_STATUS_<n>" for a value this header does not know (codes are appended
 * in newer libraries). Makes no KMTalk call.
 */
inline std::string status_name(Status status) {
    switch (status) {
        case KMT_OK: return "KMT_OK";
        case KMT_ERR_INVALID_ARGUMENT: return "KMT_ERR_INVALID_ARGUMENT";
        case KMT_ERR_IO: return "KMT_ERR_IO";
        case KMT_ERR_UNSUPPORTED_FORMAT: return "KMT_ERR_UNSUPPORTED_FORMAT";
        case KMT_ERR_INVALID_AUDIO: return "KMT_ERR_INVALID_AUDIO";
        case KMT_ERR_CORRUPT_MODEL: return "KMT_ERR_CORRUPT_MODEL";
        case KMT_ERR_INCOMPATIBLE_MODEL: return "KMT_ERR_INCOMPATIBLE_MODEL";
        case KMT_ERR_OUT_OF_MEMORY: return "KMT_ERR_OUT_OF_MEMORY";
        case KMT_ERR_BUFFER_TOO_SMALL: return "KMT_ERR_BUFFER_TOO_SMALL";
        case KMT_ERR_INTERNAL: return "KMT_ERR_INTERNAL";
        case KMT_ERR_CORRUPT_RIG: return "KMT_ERR_CORRUPT_RIG";
        case KMT_ERR_CANCELLED: return "KMT_ERR_CANCELLED";
    }
    return "KMT_STATUS_" + std::to_string(static_cast<int>(status));
}

/**
 * A failed KMTalk call. status() is the kmt_status the C function returned,
 * message() the kmt_last_error() text captured immediately after it (or the
 * wrapper's own text for the few checks it makes itself, such as a sample
 * count that is not a whole number of frames), context() the function that
 * failed ("kmt_animate_file"). what() reads
 * "<context>: <STATUS_NAME>: <message>".
 */
class Error : public std::runtime_error {
public:
    /** An error with `status`, the library's `message` and the failing function's name. */
    Error(Status status, std::string message, std::string context = std::string())
        : std::runtime_error(format(status, message, context)),
          status_(status),
          message_(std::move(message)),
          context_(std::move(context)) {}

    /** The kmt_status of the failed call (never KMT_OK). */
    Status status() const noexcept { return status_; }
    /** The detail: kmt_last_error() as it was right after the failed call. */
    const std::string &message() const noexcept { return message_; }
    /** The C function (or wrapper check) that failed, for example "kmt_model_load_file". */
    const std::string &context() const noexcept { return context_; }

private:
    static std::string format(Status status, const std::string &message, const std::string &context) {
        std::string text;
        if (!context.empty()) text += context + ": ";
        text += status_name(status);
        if (!message.empty()) text += ": " + message;
        return text;
    }

    Status status_;
    std::string message_;
    std::string context_;
};

/**
 * A failed Session::push_many (kmt_sessions_push_f32 / _s16): status() and
 * message() are those of the first session that failed (the message names
 * its index), statuses() every session's status in the order passed. The
 * sessions whose status is KMT_OK were pushed; a failed one is left as a
 * failed Session::push leaves it. When the arguments themselves were refused
 * (a session listed twice, an empty Session, a bad rate or channel count,
 * as many sessions as blocks, whole frames) nothing was pushed and every
 * entry is that status.
 */
class PushManyError : public Error {
public:
    /** An error with the first failure's `status` and `message`, and every session's `statuses`. */
    PushManyError(Status status, std::string message, std::string context, std::vector<Status> statuses)
        : Error(status, std::move(message), std::move(context)), statuses_(std::move(statuses)) {}

    /** Each session's status, in the order of the sessions passed. */
    const std::vector<Status> &statuses() const noexcept { return statuses_; }

private:
    std::vector<Status> statuses_;
};

namespace detail {

/** Throws the Error for `status`, reading kmt_last_error() before anything else. */
[[noreturn]] inline void throw_error(Status status, const char *context) {
    const char *last = kmt_last_error();  // first: nothing may run in between
    std::string message(last ? last : "");
    throw Error(status, std::move(message), context ? context : "");
}

/** Throws unless `status` is KMT_OK. */
inline void check(Status status, const char *context) {
    if (status != KMT_OK) throw_error(status, context);
}

/** A copy of a library-owned string (NULL gives ""). */
inline std::string to_string(const char *text) { return text ? std::string(text) : std::string(); }

/**
 * The value a C getter writes into its out-parameter (kmtalk.h, "The one rule
 * for reading values": `kmt_status getter(const Handle *, T *out)`); throws
 * Error when it fails, for example on an empty object.
 */
template <class Handle, class T>
T read_value(Status (*getter)(const Handle *, T *), const Handle *handle, const char *context) {
    T value{};
    check(getter(handle, &value), context);
    return value;
}

/** A copy of the string a C getter writes (`kmt_status getter(const Handle *, const char **out)`). */
template <class Handle>
std::string read_string(Status (*getter)(const Handle *, const char **), const Handle *handle,
                        const char *context) {
    return to_string(read_value(getter, handle, context));
}

/**
 * A copy of the name at `index` a C getter writes (`kmt_status getter(const
 * Handle *, size_t index, const char **out)`); throws Error
 * KMT_ERR_INVALID_ARGUMENT for an index not below the count.
 */
template <class Handle>
std::string read_name(Status (*getter)(const Handle *, std::size_t, const char **), const Handle *handle,
                      std::size_t index, const char *context) {
    const char *name = nullptr;
    check(getter(handle, index, &name), context);
    return to_string(name);
}

/** a * b, or Error(KMT_ERR_OUT_OF_MEMORY) when the product overflows size_t. */
inline std::size_t checked_mul(std::size_t a, std::size_t b, const char *context) {
    if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) {
        throw Error(KMT_ERR_OUT_OF_MEMORY, "size overflows size_t", context);
    }
    return a * b;
}

/**
 * The "ask with (NULL, 0) first" protocol of kmtalk.h: calls `call(nullptr,
 * 0, &needed)`, then again with a buffer of `needed` elements.
 * `call(T *buffer, size_t length, size_t *needed)` returns a kmt_status.
 */
template <class T, class Call>
std::vector<T> read_sized(Call &&call, const char *context) {
    std::size_t needed = 0;
    Status status = call(static_cast<T *>(nullptr), 0, &needed);
    if (status == KMT_OK && needed == 0) return std::vector<T>();
    if (status != KMT_OK && status != KMT_ERR_BUFFER_TOO_SMALL) throw_error(status, context);
    std::vector<T> out(needed);
    std::size_t written = 0;
    check(call(out.data(), out.size(), &written), context);
    out.resize(written < out.size() ? written : out.size());
    return out;
}

}  // namespace detail

/**
 * A progress function for the long calls (kmt_progress_callback): called on
 * the calling thread with the share done (0..1, never decreasing, 1 last) and
 * the stage's name ("decode", "network", "export", ...). Return false to
 * cancel: the call throws Error KMT_ERR_CANCELLED. An exception it throws
 * cancels the call too, and is rethrown from it once the library returned.
 */
using ProgressFunction = std::function<bool(float fraction, const char *stage)>;

namespace detail {

/** Relays kmt_progress_callback to a ProgressFunction and keeps what it threw. */
struct ProgressRelay {
    ProgressFunction function;
    std::exception_ptr error;

    /** The kmt_progress_callback; `user_data` is the relay. */
    static int call(float fraction, const char *stage, void *user_data) noexcept {
        ProgressRelay *relay = static_cast<ProgressRelay *>(user_data);
        try {
            return relay->function && !relay->function(fraction, stage ? stage : "") ? 1 : 0;
        } catch (...) {
            relay->error = std::current_exception();
            return 1;
        }
    }

    /** After the call: rethrows what the function threw, else throws unless KMT_OK. */
    void finish(Status status, const char *context) {
        if (error) {
            std::exception_ptr thrown = error;
            error = nullptr;
            std::rethrow_exception(thrown);
        }
        check(status, context);
    }
};

struct ModelDeleter {
    void operator()(kmt_model *model) const noexcept { kmt_model_free(model); }
};
struct SessionDeleter {
    void operator()(kmt_session *session) const noexcept { kmt_session_free(session); }
};
struct AnimationDeleter {
    void operator()(kmt_animation *animation) const noexcept { kmt_animation_free(animation); }
};
struct RigDeleter {
    void operator()(kmt_rig *rig) const noexcept { kmt_rig_free(rig); }
};
struct AudioDeleter {
    void operator()(kmt_audio *audio) const noexcept { kmt_audio_free(audio); }
};

/** Reads a `__metadata__` value (kmt_model_metadata / kmt_rig_metadata). */
template <class Handle, class Fn>
std::optional<std::string> metadata(const Handle *handle, const std::string &key, Fn fn,
                                    const char *context) {
    if (!handle) throw Error(KMT_ERR_INVALID_ARGUMENT, "the object is empty (moved from)", context);
    std::size_t length = 0;
    Status status = fn(handle, key.c_str(), nullptr, 0, &length);
    // A missing key is KMT_ERR_INVALID_ARGUMENT (the handle is known to be non-NULL).
    if (status == KMT_ERR_INVALID_ARGUMENT) return std::nullopt;
    if (status != KMT_OK && status != KMT_ERR_BUFFER_TOO_SMALL) throw_error(status, context);
    std::vector<char> buffer(length + 1);
    check(fn(handle, key.c_str(), buffer.data(), buffer.size(), &length), context);
    return std::string(buffer.data(), length < buffer.size() ? length : buffer.size() - 1);
}

}  // namespace detail

/**
 * A non-owning view of `size` contiguous elements at `data` (std::span is
 * C++20; with C++20 a std::span<const T> converts to it too). It does not
 * extend the lifetime of what it views: pass it straight into a call.
 */
template <class T>
struct BasicView {
    /** The first element (may be nullptr when size is 0). */
    const T *data = nullptr;
    /** Number of elements. */
    std::size_t size = 0;

    /** An empty view. */
    constexpr BasicView() noexcept = default;
    /** `count` elements at `pointer`. */
    constexpr BasicView(const T *pointer, std::size_t count) noexcept : data(pointer), size(count) {}
    /** The elements of a vector. */
    template <class Allocator>
    BasicView(const std::vector<T, Allocator> &values) noexcept  // NOLINT: implicit on purpose
        : data(values.data()), size(values.size()) {}
    /** The elements of a std::array. */
    template <std::size_t N>
    constexpr BasicView(const std::array<T, N> &values) noexcept  // NOLINT
        : data(values.data()), size(N) {}
    /** The elements of a C array. */
    template <std::size_t N>
    constexpr BasicView(const T (&values)[N]) noexcept : data(values), size(N) {}  // NOLINT
#ifdef KMTALK_HPP_HAS_SPAN
    /** The elements of a std::span of const elements (C++20). */
    template <std::size_t Extent>
    constexpr BasicView(std::span<const T, Extent> values) noexcept  // NOLINT
        : data(values.data()), size(values.size()) {}
    /** The elements of a std::span (C++20). */
    template <std::size_t Extent>
    constexpr BasicView(std::span<T, Extent> values) noexcept  // NOLINT
        : data(values.data()), size(values.size()) {}
#endif

    /** Iteration support. */
    constexpr const T *begin() const noexcept { return data; }
    /** Iteration support. */
    constexpr const T *end() const noexcept { return data + size; }
    /** Whether the view has no elements. */
    constexpr bool empty() const noexcept { return size == 0; }
};

/** A view of float samples or weights. */
using FloatView = BasicView<float>;
/** A view of 16-bit PCM samples. */
using Int16View = BasicView<std::int16_t>;

/** The library's version at run time, "MAJOR.MINOR.PATCH" (kmt_version). */
inline std::string version() { return detail::to_string(kmt_version()); }

/** The library's version at run time as KMT_VERSION_NUMBER computes it (kmt_version_number). */
inline std::int32_t version_number() { return kmt_version_number(); }

/**
 * Installs the process-wide log callback (kmt_log_set; nullptr silences the
 * library, the default). The callback may run on any thread that calls KMTalk
 * and must not throw (it is called from C).
 */
inline void set_log_callback(kmt_log_callback callback, kmt_log_level min_level = KMT_LOG_WARNING,
                             void *user_data = nullptr) {
    kmt_log_set(callback, min_level, user_data);
}

class Animation;
class Rig;
class Session;

/**
 * Model weights and configuration (kmt_model). Immutable once loaded: any
 * number of threads may create Sessions from one Model at once. A Session
 * keeps its model alive, so a Model may be destroyed before its Sessions.
 */
class Model {
public:
    /** An empty model (no handle). */
    Model() noexcept = default;

    /**
     * Loads a model from a safetensors file (kmt_model_load_file). Throws
     * Error: KMT_ERR_IO (missing, unreadable), KMT_ERR_UNSUPPORTED_FORMAT,
     * KMT_ERR_CORRUPT_MODEL, KMT_ERR_INCOMPATIBLE_MODEL, KMT_ERR_OUT_OF_MEMORY.
     */
    explicit Model(const char *path) {
        kmt_model *model = nullptr;
        detail::check(kmt_model_load_file(path, nullptr, &model), "kmt_model_load_file");
        handle_.reset(model);
    }

    /** Loads a model from a safetensors file (see Model(const char *)). */
    explicit Model(const std::string &path) : Model(path.c_str()) {}

    /**
     * Loads a model from `size` bytes at `data` (kmt_model_load_memory). The
     * bytes are copied as needed; `data` may be freed when this returns.
     */
    Model(const void *data, std::size_t size) {
        kmt_model *model = nullptr;
        detail::check(kmt_model_load_memory(data, size, nullptr, &model), "kmt_model_load_memory");
        handle_.reset(model);
    }

    /** Takes ownership of a kmt_model from the C API (may be nullptr). */
    static Model adopt(kmt_model *model) noexcept {
        Model out;
        out.handle_.reset(model);
        return out;
    }

    /** The C handle (still owned by this object); nullptr when empty. */
    kmt_model *get() const noexcept { return handle_.get(); }
    /** Gives up ownership: returns the handle (free it with kmt_model_free) and leaves this empty. */
    kmt_model *release() noexcept { return handle_.release(); }
    /** Whether this object holds a model. */
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

    // The accessors throw Error KMT_ERR_INVALID_ARGUMENT on an empty Model.

    /** The architecture name, for example "kmtalk" (kmt_model_architecture). */
    std::string architecture() const {
        return detail::read_string(&kmt_model_architecture, get(), "kmt_model_architecture");
    }
    /** What the channels are: "arkit", "rig" or "vertices" (kmt_model_motion_space). */
    std::string motion_space() const {
        return detail::read_string(&kmt_model_motion_space, get(), "kmt_model_motion_space");
    }
    /** The audio sample rate the model consumes in Hz (kmt_model_sample_rate). */
    std::int32_t sample_rate() const {
        return detail::read_value(&kmt_model_sample_rate, get(), "kmt_model_sample_rate");
    }
    /** The native output frame rate in frames per second (kmt_model_fps). */
    double fps() const { return detail::read_value(&kmt_model_fps, get(), "kmt_model_fps"); }
    /** Number of output channels (kmt_model_channel_count). */
    std::size_t channel_count() const {
        return detail::read_value(&kmt_model_channel_count, get(), "kmt_model_channel_count");
    }
    /** Name of output channel `index`; throws Error KMT_ERR_INVALID_ARGUMENT when out of range. */
    std::string channel_name(std::size_t index) const {
        return detail::read_name(&kmt_model_channel_name, get(), index, "kmt_model_channel_name");
    }
    /** The names of all output channels, in channel order. */
    std::vector<std::string> channel_names() const {
        std::vector<std::string> names;
        const std::size_t count = channel_count();
        names.reserve(count);
        for (std::size_t i = 0; i < count; ++i) names.push_back(channel_name(i));
        return names;
    }
    /** Total number of weights (scalars) in the model (kmt_model_parameter_count). */
    std::uint64_t parameter_count() const {
        return detail::read_value(&kmt_model_parameter_count, get(), "kmt_model_parameter_count");
    }

    /**
     * The `__metadata__` value stored under `key` (kmt_model_metadata), or
     * std::nullopt when the file has no such key. Throws Error on an empty Model.
     */
    std::optional<std::string> metadata(const std::string &key) const {
        return detail::metadata(get(), key, &kmt_model_metadata, "kmt_model_metadata");
    }

private:
    std::unique_ptr<kmt_model, detail::ModelDeleter> handle_;
};

/**
 * Audio decoded by the library (kmt_audio): every format kmt_animate_file
 * reads, mixed to mono and resampled with libsoxr, as float samples. For
 * hosts that stream a file: decode it at the model's rate and push its
 * samples() in chunks. Immutable: any number of threads may read it.
 */
class Audio {
public:
    /** An empty object (no handle). */
    Audio() noexcept = default;

    /**
     * Decodes the file at `path` (kmt_audio_load_file) to mono at
     * `sample_rate` Hz (0: the file's own rate; pass Model::sample_rate() for
     * the samples the network gets). `progress` is called per decoded block
     * (stage "decode"); returning false cancels (KMT_ERR_CANCELLED). Throws
     * Error as kmt_animate_file: KMT_ERR_IO, KMT_ERR_INVALID_AUDIO,
     * KMT_ERR_UNSUPPORTED_FORMAT, KMT_ERR_INVALID_ARGUMENT (a bad rate).
     */
    explicit Audio(const std::string &path, std::int32_t sample_rate = 0, ProgressFunction progress = nullptr) {
        detail::ProgressRelay relay;
        const kmt_audio_params params = audio_params(sample_rate, progress, relay);
        kmt_audio *audio = nullptr;
        const Status status = kmt_audio_load_file(path.c_str(), &params, &audio);
        handle_.reset(audio);
        relay.finish(status, "kmt_audio_load_file");
    }

    /** Decodes `size` bytes of an audio file at `data` (kmt_audio_load_memory); as Audio(path). */
    Audio(const void *data, std::size_t size, std::int32_t sample_rate = 0, ProgressFunction progress = nullptr) {
        detail::ProgressRelay relay;
        const kmt_audio_params params = audio_params(sample_rate, progress, relay);
        kmt_audio *audio = nullptr;
        const Status status = kmt_audio_load_memory(data, size, &params, &audio);
        handle_.reset(audio);
        relay.finish(status, "kmt_audio_load_memory");
    }

    /** The C handle (still owned by this object); nullptr when empty. */
    const kmt_audio *get() const noexcept { return handle_.get(); }
    /** Whether this object holds audio. */
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

    // The accessors throw Error KMT_ERR_INVALID_ARGUMENT on an empty object.

    /** The rate of samples() in Hz (kmt_audio_sample_rate). */
    std::int32_t sample_rate() const {
        return detail::read_value(&kmt_audio_sample_rate, get(), "kmt_audio_sample_rate");
    }
    /** The number of mono samples (kmt_audio_sample_count). */
    std::size_t sample_count() const {
        return detail::read_value(&kmt_audio_sample_count, get(), "kmt_audio_sample_count");
    }
    /** The samples, valid while this object lives (kmt_audio_samples). */
    FloatView samples() const {
        const float *samples = detail::read_value(&kmt_audio_samples, get(), "kmt_audio_samples");
        return FloatView(samples, sample_count());
    }
    /** The file's own sample rate in Hz (kmt_audio_source_rate). */
    std::int32_t source_rate() const {
        return detail::read_value(&kmt_audio_source_rate, get(), "kmt_audio_source_rate");
    }
    /** The file's channel count before the mixdown (kmt_audio_source_channels). */
    std::int32_t source_channels() const {
        return detail::read_value(&kmt_audio_source_channels, get(), "kmt_audio_source_channels");
    }
    /** libsndfile's name of the container and encoding, e.g. "WAV (Microsoft) / Signed 16 bit PCM". */
    std::string format_name() const {
        return detail::read_string(&kmt_audio_format_name, get(), "kmt_audio_format_name");
    }

private:
    static kmt_audio_params audio_params(std::int32_t sample_rate, ProgressFunction &progress,
                                         detail::ProgressRelay &relay) {
        kmt_audio_params params;
        detail::check(kmt_audio_params_init(&params, sizeof params), "kmt_audio_params_init");
        params.sample_rate = sample_rate;
        if (progress) {
            relay.function = std::move(progress);
            params.progress = &detail::ProgressRelay::call;
            params.progress_user_data = &relay;
        }
        return params;
    }

    std::unique_ptr<kmt_audio, detail::AudioDeleter> handle_;
};

/**
 * A character rig (kmt_rig): a neutral mesh of V vertices and F triangles
 * plus S named blendshapes. Immutable once loaded: any number of threads may
 * read it and pose animations with it at once.
 */
class Rig {
public:
    /** An empty rig (no handle). */
    Rig() noexcept = default;

    /**
     * Loads a rig from a kmtalk-rig safetensors file (kmt_rig_load_file).
     * Throws Error: KMT_ERR_IO, KMT_ERR_OUT_OF_MEMORY,
     * KMT_ERR_UNSUPPORTED_FORMAT, KMT_ERR_CORRUPT_RIG.
     */
    explicit Rig(const char *path) {
        kmt_rig *rig = nullptr;
        detail::check(kmt_rig_load_file(path, &rig), "kmt_rig_load_file");
        handle_.reset(rig);
    }

    /** Loads a rig from a file (see Rig(const char *)). */
    explicit Rig(const std::string &path) : Rig(path.c_str()) {}

    /** Loads a rig from `size` bytes at `data` (kmt_rig_load_memory; the bytes are copied). */
    Rig(const void *data, std::size_t size) {
        kmt_rig *rig = nullptr;
        detail::check(kmt_rig_load_memory(data, size, &rig), "kmt_rig_load_memory");
        handle_.reset(rig);
    }

    /** Takes ownership of a kmt_rig from the C API (may be nullptr). */
    static Rig adopt(kmt_rig *rig) noexcept {
        Rig out;
        out.handle_.reset(rig);
        return out;
    }

    /** The C handle (still owned by this object); nullptr when empty. */
    kmt_rig *get() const noexcept { return handle_.get(); }
    /** Gives up ownership: returns the handle (free it with kmt_rig_free) and leaves this empty. */
    kmt_rig *release() noexcept { return handle_.release(); }
    /** Whether this object holds a rig. */
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

    // The accessors throw Error KMT_ERR_INVALID_ARGUMENT on an empty Rig.

    /** Number of vertices V of the neutral mesh (kmt_rig_vertex_count). */
    std::size_t vertex_count() const {
        return detail::read_value(&kmt_rig_vertex_count, get(), "kmt_rig_vertex_count");
    }
    /** Number of triangles F (kmt_rig_face_count). */
    std::size_t face_count() const { return detail::read_value(&kmt_rig_face_count, get(), "kmt_rig_face_count"); }
    /** Number of blendshapes S (kmt_rig_shape_count). */
    std::size_t shape_count() const {
        return detail::read_value(&kmt_rig_shape_count, get(), "kmt_rig_shape_count");
    }
    /** Name of blendshape `index`; throws Error KMT_ERR_INVALID_ARGUMENT when out of range. */
    std::string shape_name(std::size_t index) const {
        return detail::read_name(&kmt_rig_shape_name, get(), index, "kmt_rig_shape_name");
    }
    /** The names of all blendshapes, in shape order. */
    std::vector<std::string> shape_names() const {
        std::vector<std::string> names;
        const std::size_t count = shape_count();
        names.reserve(count);
        for (std::size_t i = 0; i < count; ++i) names.push_back(shape_name(i));
        return names;
    }

    /**
     * The `__metadata__` value under `key` (kmt_rig_metadata; "units" is "m",
     * "cm" or "mm"), or std::nullopt when absent. Throws Error on an empty Rig.
     */
    std::optional<std::string> metadata(const std::string &key) const {
        return detail::metadata(get(), key, &kmt_rig_metadata, "kmt_rig_metadata");
    }

    /** The neutral vertex positions, V x 3 floats (x, y, z; rig units, +y up, facing +z). */
    std::vector<float> vertices() const {
        const kmt_rig *rig = get();
        return detail::read_sized<float>(
            [rig](float *buffer, std::size_t length, std::size_t *needed) {
                return kmt_rig_read_vertices(rig, buffer, length, needed);
            },
            "kmt_rig_read_vertices");
    }

    /** The triangles, F x 3 vertex indices (0-based, counter-clockwise seen from outside). */
    std::vector<std::int32_t> faces() const {
        const kmt_rig *rig = get();
        return detail::read_sized<std::int32_t>(
            [rig](std::int32_t *buffer, std::size_t length, std::size_t *needed) {
                return kmt_rig_read_faces(rig, buffer, length, needed);
            },
            "kmt_rig_read_faces");
    }

    /** Blendshape `shape`'s deltas, V x 3 floats: each vertex's offset at weight 1 (rig units). */
    std::vector<float> deltas(std::size_t shape) const {
        const kmt_rig *rig = get();
        return detail::read_sized<float>(
            [rig, shape](float *buffer, std::size_t length, std::size_t *needed) {
                return kmt_rig_read_deltas(rig, shape, buffer, length, needed);
            },
            "kmt_rig_read_deltas");
    }

    /**
     * For each of the S shapes, the index of the `animation` channel that
     * drives it, or -1 (kmt_rig_shape_channels).
     */
    std::vector<std::int32_t> shape_channels(const Animation &animation) const;
    /** Indices of the animation channels that drive no shape, ascending (kmt_rig_unmatched_channels). */
    std::vector<std::size_t> unmatched_channels(const Animation &animation) const;
    /** Indices of the shapes no animation channel drives, ascending (kmt_rig_unmatched_shapes). */
    std::vector<std::size_t> unmatched_shapes(const Animation &animation) const;

private:
    std::unique_ptr<kmt_rig, detail::RigDeleter> handle_;
};

/**
 * An animation result (kmt_animation): frame_count() x channel_count() float
 * weights at fps() frames per second; frame i is at time i / fps(). Immutable:
 * any thread may read it. It is independent of the Session and Model that
 * produced it.
 */
class Animation {
public:
    /** An empty animation (no handle). */
    Animation() noexcept = default;

    /** Takes ownership of a kmt_animation from the C API (may be nullptr). */
    static Animation adopt(kmt_animation *animation) noexcept {
        Animation out;
        out.handle_.reset(animation);
        return out;
    }

    /** The C handle (still owned by this object); nullptr when empty. */
    kmt_animation *get() const noexcept { return handle_.get(); }
    /** Gives up ownership: returns the handle (free it with kmt_animation_free) and leaves this empty. */
    kmt_animation *release() noexcept { return handle_.release(); }
    /** Whether this object holds an animation. */
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

    // The accessors throw Error KMT_ERR_INVALID_ARGUMENT on an empty Animation.

    /** Number of frames (kmt_animation_frame_count). */
    std::size_t frame_count() const {
        return detail::read_value(&kmt_animation_frame_count, get(), "kmt_animation_frame_count");
    }
    /** Number of channels per frame (kmt_animation_channel_count). */
    std::size_t channel_count() const {
        return detail::read_value(&kmt_animation_channel_count, get(), "kmt_animation_channel_count");
    }
    /** Frame rate in frames per second (kmt_animation_fps). */
    double fps() const { return detail::read_value(&kmt_animation_fps, get(), "kmt_animation_fps"); }
    /** Name of channel `index`; throws Error KMT_ERR_INVALID_ARGUMENT when out of range. */
    std::string channel_name(std::size_t index) const {
        return detail::read_name(&kmt_animation_channel_name, get(), index, "kmt_animation_channel_name");
    }
    /** The names of all channels, in channel order. */
    std::vector<std::string> channel_names() const {
        std::vector<std::string> names;
        const std::size_t count = channel_count();
        names.reserve(count);
        for (std::size_t i = 0; i < count; ++i) names.push_back(channel_name(i));
        return names;
    }

    /**
     * Copies frames [first_frame, first_frame + frame_count) row-major into
     * `buffer` of `buffer_length` floats (kmt_animation_read_frames) and
     * returns the number of floats written (frame_count x channel_count()).
     * Throws Error: KMT_ERR_BUFFER_TOO_SMALL, KMT_ERR_INVALID_ARGUMENT (a
     * range past the end).
     */
    std::size_t read_frames(std::size_t first_frame, std::size_t frame_count, float *buffer,
                            std::size_t buffer_length) const {
        std::size_t written = 0;
        detail::check(kmt_animation_read_frames(get(), first_frame, frame_count, buffer, buffer_length,
                                                &written),
                      "kmt_animation_read_frames");
        return written;
    }

    /** Frames [first_frame, first_frame + frame_count), row-major. */
    std::vector<float> read_frames(std::size_t first_frame, std::size_t frame_count) const {
        std::vector<float> out(detail::checked_mul(frame_count, channel_count(), "kmt_animation_read_frames"));
        std::size_t written = read_frames(first_frame, frame_count, out.data(), out.size());
        out.resize(written < out.size() ? written : out.size());
        return out;
    }

    /** A new animation of a character's own shapes from a JSON channel map
        (kmt_animation_remap; docs/rig.md, "Channel maps"). */
    Animation remap(const std::string &channel_map_json) const {
        kmt_animation *mapped = nullptr;
        detail::check(kmt_animation_remap(get(), channel_map_json.c_str(), &mapped), "kmt_animation_remap");
        return Animation::adopt(mapped);
    }

    /** Writes the animation into the user's own character: a copy of the GLB at
        `asset_path` saved to `path` with every mesh, material, skin and node kept and a
        "speech" animation added first (kmt_animation_save_into_glb; docs/export.md). */
    void save_into(const std::string &asset_path, const std::string &path) const {
        detail::check(kmt_animation_save_into_glb(get(), asset_path.c_str(), path.c_str()),
                      "kmt_animation_save_into_glb");
    }

    /** All frames, row-major: frame_count() x channel_count() floats. */
    std::vector<float> frames() const {
        const std::size_t count = frame_count();
        if (count == 0) return std::vector<float>();
        return read_frames(0, count);
    }

    /**
     * Poses frames [first_frame, first_frame + frame_count) into `buffer` of
     * `buffer_length` floats (kmt_animation_vertices): frame_count x V x 3
     * floats, frame by frame, vertex by vertex, positions
     * (KMT_VERTICES_ABSOLUTE) or offsets from the neutral mesh
     * (KMT_VERTICES_OFFSETS). An animation of blendshape weights needs a
     * `rig` (V is the rig's); an animation of a vertices-space model carries
     * its own template (vertex_count() > 0) and takes `rig` = nullptr.
     * Returns the number of floats written.
     */
    std::size_t vertices(const Rig *rig, std::size_t first_frame, std::size_t frame_count, VertexMode mode,
                         float *buffer, std::size_t buffer_length) const;

    /** Poses frames as above and returns frame_count x V x 3 floats. */
    std::vector<float> vertices(const Rig *rig, std::size_t first_frame, std::size_t frame_count,
                                VertexMode mode = KMT_VERTICES_ABSOLUTE) const;

    /** Poses frames with `rig` (an animation of blendshape weights); see vertices(const Rig *, ...). */
    std::vector<float> vertices(const Rig &rig, std::size_t first_frame, std::size_t frame_count,
                                VertexMode mode = KMT_VERTICES_ABSOLUTE) const {
        return vertices(&rig, first_frame, frame_count, mode);
    }

    /**
     * Number of template vertices V of a vertices-space animation
     * (kmt_animation_vertex_count); 0 for an animation of blendshape weights.
     */
    std::size_t vertex_count() const {
        return detail::read_value(&kmt_animation_vertex_count, get(), "kmt_animation_vertex_count");
    }

    /**
     * The triangles of a vertices-space animation's template, F x 3 indices
     * (kmt_animation_read_faces). Throws Error KMT_ERR_INVALID_ARGUMENT for an
     * animation of blendshape weights (use Rig::faces()).
     */
    std::vector<std::int32_t> faces() const {
        const kmt_animation *animation = get();
        return detail::read_sized<std::int32_t>(
            [animation](std::int32_t *buffer, std::size_t length, std::size_t *needed) {
                return kmt_animation_read_faces(animation, buffer, length, needed);
            },
            "kmt_animation_read_faces");
    }

    /**
     * Saves the animation to `path` in `format` (kmt_animation_save; AUTO
     * picks by extension). `rig` may be nullptr for the weight and mouth-cue
     * formats; GLB, OBJ and PLY need one (except for vertices-space
     * animations). The write is atomic. Throws Error: KMT_ERR_INVALID_ARGUMENT
     * ("GLB export needs a rig", unknown extension, ...), KMT_ERR_IO.
     */
    void save(const std::string &path, ExportFormat format = KMT_EXPORT_AUTO, const Rig *rig = nullptr) const;

    /** Saves with `rig` (see save(const std::string &, ExportFormat, const Rig *)). */
    void save(const std::string &path, ExportFormat format, const Rig &rig) const { save(path, format, &rig); }

    /**
     * The bytes save() would write, for a single-file `format` (not AUTO, OBJ
     * or PLY) (kmt_animation_save_to_memory; encodes twice: size, then data).
     */
    std::vector<unsigned char> save_to_memory(ExportFormat format, const Rig *rig = nullptr) const;

    /** The bytes save() would write, posing `rig` (see save_to_memory(ExportFormat, const Rig *)). */
    std::vector<unsigned char> save_to_memory(ExportFormat format, const Rig &rig) const {
        return save_to_memory(format, &rig);
    }

    /** Options of save() and save_to_memory() (kmt_export_params). */
    struct ExportOptions {
        /** The mouth-cue formats: which of Rhubarb's extended shapes G, H, X to
            use, as letters ("" = the basic shapes A-F only; others are drawn as
            Rhubarb does: G as B, H as C, X as A); std::nullopt = all. */
        std::optional<std::string> mouth_cue_extended_shapes;
        /** Progress (stage "export") and cancellation; empty = none. A
            cancelled save leaves no file and existing files untouched. */
        ProgressFunction progress;
    };

    /** save() with options (kmt_animation_save_with_params). */
    void save(const std::string &path, ExportFormat format, const Rig *rig, const ExportOptions &options) const;

    /** save_to_memory() with options (kmt_animation_save_to_memory_with_params). */
    std::vector<unsigned char> save_to_memory(ExportFormat format, const Rig *rig,
                                              const ExportOptions &options) const;

private:
    std::unique_ptr<kmt_animation, detail::AnimationDeleter> handle_;
};

/** Options of a Session, mapped onto kmt_session_params (set up by kmt_session_params_init()). */
struct SessionOptions {
    /** Threads the session's calls may use (n_threads): 0 or 1 the calling thread only, with
        bit-identical results; N > 1 splits long sequences (offline animation) by rows over N
        threads started for the call (see the header's Thread safety). */
    int threads = 0;
    /** Output frame rate, 1..240 fps (output_fps); 0 = the model's native rate. */
    double output_fps = 0.0;
    /** Replace NaN, infinite and |x| > 1000 samples with silence (KMT_NONFINITE_ZERO) instead of
        failing with KMT_ERR_INVALID_AUDIO (KMT_NONFINITE_REJECT, the default). */
    bool replace_nonfinite = false;
    /** Streaming latency in ms (latency_ms): 0 = the model's default, KMT_LATENCY_EXACT = its full
        look-ahead (frames equal to offline), otherwise at least 20. */
    double latency_ms = 0.0;
};

/** What Session::pull(float *, size_t) moved into the caller's buffer. */
struct PullResult {
    /** Number of frames written (each Session::channel_count() floats); 0 when none was final. */
    std::size_t frame_count = 0;
    /** Time in seconds of the first frame written (frame i of the utterance is at i / output_fps()). */
    double first_time = 0.0;
};

/** Frames returned by Session::pull(). */
struct PulledFrames {
    /** frame_count x channel_count floats, row-major. */
    std::vector<float> data;
    /** Number of frames. */
    std::size_t frame_count = 0;
    /** Floats per frame (the model's channel count). */
    std::size_t channel_count = 0;
    /** Time in seconds of the first frame (meaningful when frame_count > 0). */
    double first_time = 0.0;
    /** Whether no frame was pulled. */
    bool empty() const noexcept { return frame_count == 0; }
};

/**
 * Per-stream inference state (kmt_session): offline animation of files and
 * PCM, and streaming (push / pull / flush / reset). Use one Session from one
 * thread at a time; different Sessions may run concurrently, also on one
 * shared Model.
 *
 * The session holds a reference to its model (kmt_session_create): the Model
 * object may be destroyed first, the weights live until the last session is
 * freed. The wrapper does not check or need the Model's lifetime.
 */
class Session {
public:
    /** An empty session (no handle). */
    Session() noexcept = default;

    /**
     * Creates a session on `model` (kmt_session_create). Throws Error
     * KMT_ERR_INVALID_ARGUMENT for an empty model or options out of range
     * (output_fps outside 1..240, negative threads).
     */
    explicit Session(const Model &model, const SessionOptions &options = SessionOptions())
        : Session(model, options, ProgressFunction()) {}

    /**
     * A session whose animate_file() and animate_pcm() report to `progress`
     * and may be cancelled by it (kmt_session_params.progress; see
     * ProgressFunction). The Session keeps `progress` (a copy) for its
     * lifetime; it runs on the thread calling animate_*. After release(),
     * the released handle must not animate once this object is gone.
     */
    Session(const Model &model, const SessionOptions &options, ProgressFunction progress) {
        kmt_session_params params;
        detail::check(kmt_session_params_init(&params, sizeof params), "kmt_session_params_init");
        params.n_threads = static_cast<std::int32_t>(options.threads);
        params.output_fps = options.output_fps;
        params.latency_ms = options.latency_ms;
        params.nonfinite_policy = options.replace_nonfinite ? KMT_NONFINITE_ZERO : KMT_NONFINITE_REJECT;
        if (progress) {
            // Owned here, at a stable address: the C session keeps the pointer.
            progress_.reset(new detail::ProgressRelay());
            progress_->function = std::move(progress);
            params.progress = &detail::ProgressRelay::call;
            params.progress_user_data = progress_.get();
        }
        kmt_session *session = nullptr;
        detail::check(kmt_session_create(model.get(), &params, &session), "kmt_session_create");
        handle_.reset(session);
        channel_count_ = model.channel_count();
    }

    /**
     * Takes ownership of a kmt_session from the C API (may be nullptr).
     * `channel_count` must be its model's kmt_model_channel_count (the C API
     * cannot tell it from the session, and pull() needs it).
     */
    static Session adopt(kmt_session *session, std::size_t channel_count) noexcept {
        Session out;
        out.handle_.reset(session);
        out.channel_count_ = session ? channel_count : 0;
        return out;
    }

    /** Moves the session; `other` becomes empty. */
    Session(Session &&other) noexcept
        : progress_(std::move(other.progress_)),
          handle_(std::move(other.handle_)),
          channel_count_(std::exchange(other.channel_count_, 0)) {}
    /** Moves the session (freeing the one held before); `other` becomes empty. */
    Session &operator=(Session &&other) noexcept {
        if (this != &other) {
            handle_ = std::move(other.handle_);  // frees the old session before its progress relay
            progress_ = std::move(other.progress_);
            channel_count_ = std::exchange(other.channel_count_, 0);
        }
        return *this;
    }
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;
    ~Session() = default;

    /** The C handle (still owned by this object); nullptr when empty. */
    kmt_session *get() const noexcept { return handle_.get(); }
    /** Gives up ownership: returns the handle (free it with kmt_session_free) and leaves this empty. */
    kmt_session *release() noexcept {
        channel_count_ = 0;
        return handle_.release();
    }
    /** Whether this object holds a session. */
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

    /** Floats per output frame: the model's channel count (0 when empty). */
    std::size_t channel_count() const noexcept { return channel_count_; }

    /**
     * Decodes the audio file at `path` and animates all of it
     * (kmt_animate_file). Throws Error: KMT_ERR_IO (missing, unreadable; the
     * message names the path), KMT_ERR_UNSUPPORTED_FORMAT, KMT_ERR_INVALID_AUDIO.
     */
    Animation animate_file(const char *path) {
        kmt_animation *animation = nullptr;
        finish(kmt_animate_file(get(), path, &animation), "kmt_animate_file");
        return Animation::adopt(animation);
    }
    /** Animates an audio file (see animate_file(const char *)). */
    Animation animate_file(const std::string &path) { return animate_file(path.c_str()); }

    /**
     * Animates `frame_count` frames of interleaved float PCM (`channels`
     * samples per frame, nominal range -1..1) at `sample_rate` Hz
     * (8000..192000) (kmt_animate_pcm).
     */
    Animation animate_pcm(const float *samples, std::size_t frame_count, std::int32_t sample_rate,
                          std::int32_t channels = 1) {
        kmt_animation *animation = nullptr;
        finish(kmt_animate_pcm(get(), samples, frame_count, sample_rate, channels, &animation), "kmt_animate_pcm");
        return Animation::adopt(animation);
    }

    /**
     * Animates interleaved float PCM given as a view of samples (not frames):
     * samples.size must be a multiple of `channels` (else Error
     * KMT_ERR_INVALID_ARGUMENT from the wrapper).
     */
    Animation animate_pcm(FloatView samples, std::int32_t sample_rate, std::int32_t channels = 1) {
        return animate_pcm(samples.data, frames_of(samples.size, channels, "kmt_animate_pcm"), sample_rate,
                           channels);
    }

    // ---- Streaming -------------------------------------------------------

    /**
     * Pushes `frames` frames of interleaved float PCM at `sample_rate` Hz
     * (kmt_session_push_f32). The first push of an utterance fixes its rate
     * and channel count; another rate or channel count, or a push after
     * flush() without reset(), is KMT_ERR_INVALID_ARGUMENT. Non-finite
     * samples follow SessionOptions::replace_nonfinite (rejected: the chunk
     * is dropped, KMT_ERR_INVALID_AUDIO, and the stream may continue).
     * Models that cannot stream give KMT_ERR_INCOMPATIBLE_MODEL.
     */
    void push(const float *pcm, std::size_t frames, std::int32_t sample_rate, std::int32_t channels = 1) {
        detail::check(kmt_session_push_f32(get(), pcm, frames, sample_rate, channels), "kmt_session_push_f32");
    }
    /** As push(const float *, ...) for 16-bit PCM, scaled by 1/32768 (kmt_session_push_s16). */
    void push(const std::int16_t *pcm, std::size_t frames, std::int32_t sample_rate,
              std::int32_t channels = 1) {
        detail::check(kmt_session_push_s16(get(), pcm, frames, sample_rate, channels), "kmt_session_push_s16");
    }
    /** Pushes a view of float samples (a multiple of `channels`). */
    void push(FloatView samples, std::int32_t sample_rate, std::int32_t channels = 1) {
        push(samples.data, frames_of(samples.size, channels, "kmt_session_push_f32"), sample_rate, channels);
    }
    /** Pushes a view of 16-bit samples (a multiple of `channels`). */
    void push(Int16View samples, std::int32_t sample_rate, std::int32_t channels = 1) {
        push(samples.data, frames_of(samples.size, channels, "kmt_session_push_s16"), sample_rate, channels);
    }

    /**
     * Pushes blocks[i] to *sessions[i] for every session in one call
     * (kmt_sessions_push_f32), with the outcome of sessions[i]->push(blocks[i],
     * sample_rate, channels): the same frames, bit for bit.
     * The sessions that share a model run each network layer together, one
     * pass over its weights for all their new audio, where separate pushes
     * make one pass per session: for a host that ticks many live streams.
     * Every block is at `sample_rate` with `channels` channels (one call per
     * rate) and holds whole frames; a block may be empty. No other thread may
     * use any of the sessions until it returns; it runs with the first
     * session's threads. Pull each session's frames as usual.
     *
     *     std::vector<kmtalk::Session *> sessions = {&a, &b, &c};
     *     std::vector<kmtalk::FloatView> blocks = {mic_a, mic_b, mic_c};  // 10 ms each
     *     kmtalk::Session::push_many(sessions, blocks, 16000);
     *
     * Throws PushManyError (an Error) when any session's push failed, with
     * every session's status: the others were pushed.
     */
    static void push_many(BasicView<Session *> sessions, BasicView<FloatView> blocks, std::int32_t sample_rate,
                          std::int32_t channels = 1) {
        push_many_of(sessions, blocks, sample_rate, channels, &kmt_sessions_push_f32, "kmt_sessions_push_f32");
    }
    /** As push_many(..., BasicView<FloatView>, ...) for 16-bit PCM, scaled by 1/32768 (kmt_sessions_push_s16). */
    static void push_many(BasicView<Session *> sessions, BasicView<Int16View> blocks, std::int32_t sample_rate,
                          std::int32_t channels = 1) {
        push_many_of(sessions, blocks, sample_rate, channels, &kmt_sessions_push_s16, "kmt_sessions_push_s16");
    }

    /** Number of final frames waiting to be pulled (kmt_session_pending_frames). */
    std::size_t pending_frames() const {
        std::size_t frames = 0;
        detail::check(kmt_session_pending_frames(get(), &frames), "kmt_session_pending_frames");
        return frames;
    }

    /**
     * Moves every final frame out of the session: asks
     * kmt_session_pending_frames, then kmt_session_pull into a vector of that
     * size. Empty when no frame is final yet.
     */
    PulledFrames pull() {
        PulledFrames out;
        out.channel_count = channel_count_;
        const std::size_t pending = pending_frames();
        out.data.resize(detail::checked_mul(pending, channel_count_, "kmt_session_pull"));
        PullResult result = pull(out.data.empty() ? nullptr : out.data.data(), out.data.size());
        out.frame_count = result.frame_count;
        out.first_time = result.first_time;
        out.data.resize(detail::checked_mul(result.frame_count, channel_count_, "kmt_session_pull"));
        return out;
    }

    /**
     * Moves as many final frames as fit into `buffer` of `buffer_length`
     * floats (kmt_session_pull), without allocating. Throws Error
     * KMT_ERR_BUFFER_TOO_SMALL when frames are pending but not one fits.
     */
    PullResult pull(float *buffer, std::size_t buffer_length) {
        PullResult result;
        detail::check(kmt_session_pull(get(), buffer, buffer_length, &result.frame_count, &result.first_time),
                      "kmt_session_pull");
        return result;
    }

    /** Ends the utterance: the remaining frames become final (kmt_session_flush). */
    void flush() { detail::check(kmt_session_flush(get()), "kmt_session_flush"); }

    /** Starts a new utterance with the same settings, discarding the current one (kmt_session_reset). */
    void reset() { detail::check(kmt_session_reset(get()), "kmt_session_reset"); }

    /**
     * The streaming latency in ms (kmt_session_latency_ms): 150 by default,
     * or the model's full look-ahead when shorter. Throws Error
     * KMT_ERR_INCOMPATIBLE_MODEL for a model that cannot stream,
     * KMT_ERR_INVALID_ARGUMENT when empty.
     */
    double latency_ms() const {
        return detail::read_value(&kmt_session_latency_ms, get(), "kmt_session_latency_ms");
    }

    /**
     * The smallest latency in ms at which streamed frames equal
     * animate_pcm's (kmt_session_exact_latency_ms). Throws as latency_ms().
     */
    double exact_latency_ms() const {
        return detail::read_value(&kmt_session_exact_latency_ms, get(), "kmt_session_exact_latency_ms");
    }

    /**
     * Chooses the streaming latency in ms (>= 20) before the first push of an
     * utterance (kmt_session_set_latency_ms; otherwise KMT_ERR_INVALID_ARGUMENT).
     * Kept until changed.
     */
    void set_latency_ms(double latency_ms) {
        detail::check(kmt_session_set_latency_ms(get(), latency_ms), "kmt_session_set_latency_ms");
    }

    /** Frames per second of the output (kmt_session_output_fps); throws Error when empty. */
    double output_fps() const {
        return detail::read_value(&kmt_session_output_fps, get(), "kmt_session_output_fps");
    }

private:
    static std::size_t frames_of(std::size_t samples, std::int32_t channels, const char *context) {
        // channels <= 0 is left to the library, which reports it with its own message.
        if (channels <= 0) return samples;
        if (samples % static_cast<std::size_t>(channels) != 0) {
            throw Error(KMT_ERR_INVALID_ARGUMENT,
                        std::to_string(samples) + " samples are not a whole number of " +
                            std::to_string(channels) + "-channel frames",
                        context);
        }
        return samples / static_cast<std::size_t>(channels);
    }

    template <class Sample>
    using PushManyCall = Status (*)(kmt_session *const *, std::size_t, const Sample *const *, const std::size_t *,
                                    std::int32_t, std::int32_t, Status *);

    template <class Sample>
    static void push_many_of(BasicView<Session *> sessions, BasicView<BasicView<Sample>> blocks,
                             std::int32_t sample_rate, std::int32_t channels, PushManyCall<Sample> call,
                             const char *context) {
        const std::size_t count = sessions.size;
        auto refuse = [&](const std::string &message) {
            throw PushManyError(KMT_ERR_INVALID_ARGUMENT, message, context,
                                std::vector<Status>(count, KMT_ERR_INVALID_ARGUMENT));
        };
        if (blocks.size != count) {
            refuse(std::to_string(count) + " sessions but " + std::to_string(blocks.size) + " blocks");
        }
        if (count == 0) return;
        std::vector<kmt_session *> handles(count);
        std::vector<const Sample *> pcm(count);
        std::vector<std::size_t> frames(count);
        for (std::size_t i = 0; i < count; ++i) {
            handles[i] = sessions.data[i] ? sessions.data[i]->get() : nullptr;  // NULL: the library refuses it
            const BasicView<Sample> &block = blocks.data[i];
            pcm[i] = block.data;
            // channels <= 0 is left to the library, which reports it with its own message.
            if (channels > 0 && block.size % static_cast<std::size_t>(channels) != 0) {
                refuse("blocks[" + std::to_string(i) + "]: " + std::to_string(block.size) +
                       " samples are not a whole number of " + std::to_string(channels) + "-channel frames");
            }
            frames[i] = channels > 0 ? block.size / static_cast<std::size_t>(channels) : block.size;
        }
        std::vector<Status> statuses(count, KMT_OK);
        const Status status =
            call(handles.data(), count, pcm.data(), frames.data(), sample_rate, channels, statuses.data());
        if (status != KMT_OK) {
            const char *last = kmt_last_error();  // first: nothing may run in between
            throw PushManyError(status, last ? last : "", context, std::move(statuses));
        }
    }

    /** Throws for a failed offline call: what the progress function threw, else the status's Error. */
    void finish(Status status, const char *context) {
        if (progress_) {
            progress_->finish(status, context);
        } else {
            detail::check(status, context);
        }
    }

    // Declared before handle_ so that the session is freed before the relay it points to.
    std::unique_ptr<detail::ProgressRelay> progress_;
    std::unique_ptr<kmt_session, detail::SessionDeleter> handle_;
    std::size_t channel_count_ = 0;
};

// ---- Definitions that need both Animation and Rig ---------------------------

inline std::vector<std::int32_t> Rig::shape_channels(const Animation &animation) const {
    const kmt_rig *rig = get();
    const kmt_animation *anim = animation.get();
    return detail::read_sized<std::int32_t>(
        [rig, anim](std::int32_t *buffer, std::size_t length, std::size_t *needed) {
            return kmt_rig_shape_channels(rig, anim, buffer, length, needed);
        },
        "kmt_rig_shape_channels");
}

inline std::vector<std::size_t> Rig::unmatched_channels(const Animation &animation) const {
    const kmt_rig *rig = get();
    const kmt_animation *anim = animation.get();
    return detail::read_sized<std::size_t>(
        [rig, anim](std::size_t *buffer, std::size_t length, std::size_t *needed) {
            return kmt_rig_unmatched_channels(rig, anim, buffer, length, needed);
        },
        "kmt_rig_unmatched_channels");
}

inline std::vector<std::size_t> Rig::unmatched_shapes(const Animation &animation) const {
    const kmt_rig *rig = get();
    const kmt_animation *anim = animation.get();
    return detail::read_sized<std::size_t>(
        [rig, anim](std::size_t *buffer, std::size_t length, std::size_t *needed) {
            return kmt_rig_unmatched_shapes(rig, anim, buffer, length, needed);
        },
        "kmt_rig_unmatched_shapes");
}

inline std::size_t Animation::vertices(const Rig *rig, std::size_t first_frame, std::size_t frame_count,
                                       VertexMode mode, float *buffer, std::size_t buffer_length) const {
    std::size_t written = 0;
    detail::check(kmt_animation_vertices(get(), rig ? rig->get() : nullptr, first_frame, frame_count, mode,
                                         buffer, buffer_length, &written),
                  "kmt_animation_vertices");
    return written;
}

inline std::vector<float> Animation::vertices(const Rig *rig, std::size_t first_frame, std::size_t frame_count,
                                              VertexMode mode) const {
    const kmt_animation *anim = get();
    const kmt_rig *handle = rig ? rig->get() : nullptr;
    return detail::read_sized<float>(
        [=](float *buffer, std::size_t length, std::size_t *needed) {
            return kmt_animation_vertices(anim, handle, first_frame, frame_count, mode, buffer, length, needed);
        },
        "kmt_animation_vertices");
}

inline void Animation::save(const std::string &path, ExportFormat format, const Rig *rig) const {
    detail::check(kmt_animation_save(get(), rig ? rig->get() : nullptr, path.c_str(), format),
                  "kmt_animation_save");
}

namespace detail {

/** kmt_export_params for `options`, reporting to `relay`; valid while both live. */
inline kmt_export_params export_params(const Animation::ExportOptions &options, ProgressRelay &relay) {
    kmt_export_params params;
    check(kmt_export_params_init(&params, sizeof params), "kmt_export_params_init");
    relay.function = options.progress;
    if (options.progress) {
        params.progress = &ProgressRelay::call;
        params.progress_user_data = &relay;
    }
    if (options.mouth_cue_extended_shapes) params.mouth_cue_extended_shapes = options.mouth_cue_extended_shapes->c_str();
    return params;
}

}  // namespace detail

inline void Animation::save(const std::string &path, ExportFormat format, const Rig *rig,
                            const ExportOptions &options) const {
    detail::ProgressRelay relay;
    const kmt_export_params params = detail::export_params(options, relay);
    relay.finish(kmt_animation_save_with_params(get(), rig ? rig->get() : nullptr, path.c_str(), format, &params),
                 "kmt_animation_save_with_params");
}

inline std::vector<unsigned char> Animation::save_to_memory(ExportFormat format, const Rig *rig,
                                                            const ExportOptions &options) const {
    detail::ProgressRelay relay;
    const kmt_export_params params = detail::export_params(options, relay);
    const kmt_animation *anim = get();
    const kmt_rig *handle = rig ? rig->get() : nullptr;
    const kmt_export_params *pointer = &params;
    try {
        return detail::read_sized<unsigned char>(
            [=](unsigned char *buffer, std::size_t length, std::size_t *needed) {
                return kmt_animation_save_to_memory_with_params(anim, handle, format, pointer, buffer, length, needed);
            },
            "kmt_animation_save_to_memory_with_params");
    } catch (const Error &) {
        if (relay.error) std::rethrow_exception(relay.error);
        throw;
    }
}

inline std::vector<unsigned char> Animation::save_to_memory(ExportFormat format, const Rig *rig) const {
    const kmt_animation *anim = get();
    const kmt_rig *handle = rig ? rig->get() : nullptr;
    return detail::read_sized<unsigned char>(
        [=](unsigned char *buffer, std::size_t length, std::size_t *needed) {
            return kmt_animation_save_to_memory(anim, handle, format, buffer, length, needed);
        },
        "kmt_animation_save_to_memory");
}

}  // namespace kmtalk

#endif  // KMTALK_HPP
