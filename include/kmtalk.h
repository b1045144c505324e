/*
 * SPDX-License-Identifier: MIT
 * kmtalk.h -- the public C API of KMTalk, speech-driven 3D facial animation.
 *
 * KMTalk turns speech audio into per-frame facial animation (ARKit blendshape
 * weights, any named rig channels, or mesh vertex offsets). It implements the
 * method of "KMTalk: Speech-Driven 3D Facial Animation with Key Motion
 * Embedding" (ECCV 2024): key motions at phoneme boundaries, then cross-modal
 * motion completion.
 *
 * USAGE
 *
 *     kmt_model *model = NULL;
 *     kmt_session *session = NULL;
 *     kmt_animation *anim = NULL;
 *     if (kmt_model_load_file("kmtalk-base.safetensors", NULL, &model) != KMT_OK ||
 *         kmt_session_create(model, NULL, &session) != KMT_OK ||
 *         kmt_animate_file(session, "speech.wav", &anim) != KMT_OK) {
 *         fprintf(stderr, "kmtalk: %s\n", kmt_last_error());
 *     } else {
 *         size_t frames = 0, channels = 0;
 *         const char *name = NULL;
 *         kmt_animation_frame_count(anim, &frames);
 *         kmt_animation_channel_count(anim, &channels);
 *         kmt_animation_channel_name(anim, 0, &name);
 *         float *w = malloc(frames * channels * sizeof(float));
 *         kmt_animation_read_frames(anim, 0, frames, w, frames * channels, NULL);
 *         printf("%s at frame 0: %f\n", name, w[0]);
 *         free(w);
 *     }
 *     kmt_animation_free(anim);
 *     kmt_session_free(session);
 *     kmt_model_free(model);
 *
 * THREAD SAFETY
 *
 * - kmt_model is immutable once loaded: any number of threads may create
 *   sessions from one model and use them at the same time.
 * - kmt_session holds per-stream state: use one session from one thread at a
 *   time (different sessions may run concurrently).
 * - kmt_animation is immutable: any thread may read it.
 * - kmt_rig is immutable once loaded: any number of threads may read it and
 *   pose animations with it at the same time.
 * - kmt_audio is immutable: any thread may read it.
 * - kmt_last_error() is per thread. kmt_log_set() may be called at any time.
 * - Progress callbacks (kmt_progress_callback) run on the thread of the call
 *   they report on, only during that call.
 * - By default (n_threads 0 or 1) a session computes on the calling thread
 *   only, and its results are bit-identical from run to run and from session
 *   to session, whatever else the process runs. With n_threads N > 1, a call
 *   that has a long sequence to compute (offline animation; a streaming push of
 *   several seconds) splits the rows of every stage (log-mel frames, the
 *   convolutions, each transformer layer) into up to N parts of at least 128
 *   rows, runs them on threads it starts for the call and joins them before it
 *   returns; the split depends only on N and the length, so results are still
 *   the same from run to run, and in practice the same as with one thread.
 *   Streaming in 10-40 ms chunks has too few rows per push to split: serve many
 *   live streams by giving each thread its own sessions (they are independent).
 *   A thread that serves many live streams pushes them together with
 *   kmt_sessions_push_f32: their network layers then run as one batch.
 *   OpenBLAS runs single-threaded inside every session call.
 * - Speed depends on the matrix kernels OpenBLAS picked when it loaded. On
 *   virtual machines that hide the CPU model it may fall back to SSE3 kernels,
 *   about half as fast: set OPENBLAS_CORETYPE (e.g. Haswell, SkylakeX) in the
 *   environment before the process starts (README, "Performance"). The kmtalk
 *   CLI and the Python package do this themselves.
 *
 * OWNERSHIP
 *
 * - Every object returned through an out-parameter (kmt_model **,
 *   kmt_session **, kmt_animation **, kmt_rig **, kmt_audio **) belongs to the
 *   caller, who releases it with the matching kmt_*_free(). The free
 *   functions accept NULL.
 * - A session keeps its model alive: the model may be freed before its
 *   sessions; its memory is released when the last user is gone.
 * - const char * values returned by the library are owned by the library.
 *   Strings from a model, animation, rig or audio live as long as that
 *   object, as do the samples of kmt_audio_samples(); static strings
 *   (kmt_version, kmt_status_string) live forever; kmt_last_error() lives
 *   until the next KMTalk call on the same thread.
 * - The library never keeps caller pointers (paths, buffers, parameter
 *   structs) after a call returns, with one exception: a session keeps the
 *   progress callback and user data of its kmt_session_params (see
 *   kmt_progress_callback). Output buffers are always caller-owned.
 * - On failure every out-parameter is set to NULL (or 0) before returning.
 *
 * ERRORS
 *
 * Functions that can fail return a kmt_status. On failure kmt_last_error()
 * gives the detail, for example "speech.xyz: not a supported audio format".
 * No function aborts the host process on bad input.
 *
 * The one rule for reading values: every value read from an object (a
 * kmt_model, kmt_session, kmt_audio, kmt_animation or kmt_rig) comes back
 * through an out-parameter and the function returns kmt_status, whether it
 * is a fixed property (a count, a rate, a name by index) or the result of
 * I/O, a caller's buffer, a lookup by key or a state check:
 *
 *     double fps;
 *     const char *name;
 *     if (kmt_model_fps(model, &fps) != KMT_OK ||
 *         kmt_model_channel_name(model, 0, &name) != KMT_OK)
 *         fprintf(stderr, "kmtalk: %s\n", kmt_last_error());
 *
 * A non-NULL out-parameter is set to 0 (NULL for pointers) first, so it
 * holds 0 or NULL whenever the call fails. A NULL object or a NULL
 * out-parameter is KMT_ERR_INVALID_ARGUMENT, as is an index that is not
 * below the count ("channel index 60 is not below the channel count 52"),
 * and kmt_last_error() names the argument. Strings and sample pointers read
 * this way are owned by the object (see OWNERSHIP). Only library-level
 * values that cannot fail are returned directly: kmt_version(),
 * kmt_version_number(), kmt_status_string() and kmt_last_error(). Caller
 * buffers follow one pattern everywhere: (buffer, buffer_length, out_needed)
 * with the needed size always written, KMT_ERR_BUFFER_TOO_SMALL when it does
 * not fit, so a caller may ask with (NULL, 0) first. Rates and times are
 * double wherever they are not whole numbers (sample rates are int32_t Hz).
 *
 * AUDIO INPUT
 *
 * Files: every format libsndfile reads (WAV 8/16/24/32-bit integer and float,
 * FLAC, Ogg Vorbis, Ogg Opus, MP3, AIFF, CAF, ...), any channel count (mixed
 * down to mono by averaging), any rate from 8 kHz to 192 kHz (resampled to the
 * model's rate, kmt_model_sample_rate(), with libsoxr at high quality). PCM:
 * 32-bit float samples, interleaved channels, same range of rates. Non-finite samples (NaN,
 * +-Inf), and samples beyond +-1000 (+60 dBFS, which only corrupt float data
 * holds), are rejected with KMT_ERR_INVALID_AUDIO by default, or replaced by
 * silence when kmt_session_params.nonfinite_policy is KMT_NONFINITE_ZERO.
 */
#ifndef KMTALK_H
#define KMTALK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

#define KMT_VERSION_MAJOR 1
#define KMT_VERSION_MINOR 0
#define KMT_VERSION_PATCH 0
#define KMT_VERSION_STRING "1.0.0"
/** The version as one comparable number: major * 10000 + minor * 100 + patch. */
#define KMT_VERSION_NUMBER \
    (KMT_VERSION_MAJOR * 10000 + KMT_VERSION_MINOR * 100 + KMT_VERSION_PATCH)

/**
 * Marks a declaration as deprecated, naming its replacement: a compiler
 * warning where the host uses it (GCC and Clang: __attribute__((deprecated)),
 * MSVC: __declspec(deprecated); nothing with other compilers). A host that
 * must keep using a deprecated function without warnings defines
 * KMT_NO_DEPRECATION_WARNINGS before including this header.
 */
#if defined(KMT_NO_DEPRECATION_WARNINGS)
#define KMT_DEPRECATED(replacement)
#elif defined(__GNUC__) || defined(__clang__)
#define KMT_DEPRECATED(replacement) \
    __attribute__((deprecated("use " #replacement " instead")))
#elif defined(_MSC_VER)
#define KMT_DEPRECATED(replacement) __declspec(deprecated("use " #replacement " instead"))
#else
#define KMT_DEPRECATED(replacement)
#endif

/** The library version at run time, "MAJOR.MINOR.PATCH" (static string). */
const char *kmt_version(void);

/** The library version at run time as KMT_VERSION_NUMBER computes it. */
int32_t kmt_version_number(void);

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                   */
/* ------------------------------------------------------------------------ */

/** Result of every fallible call. Values are stable; new ones are appended. */
typedef enum kmt_status {
    KMT_OK = 0,
    /** A NULL pointer, a value out of range, a struct_size too small. */
    KMT_ERR_INVALID_ARGUMENT = 1,
    /** A file could not be opened or read (missing, permissions, I/O error). */
    KMT_ERR_IO = 2,
    /** The file is not in a format KMTalk reads (audio, model, rig). */
    KMT_ERR_UNSUPPORTED_FORMAT = 3,
    /** Audio that decodes but cannot be used: empty, truncated, corrupt,
        non-finite samples, a sample rate outside 8 kHz..192 kHz. */
    KMT_ERR_INVALID_AUDIO = 4,
    /** A model file that breaks the container rules or lacks a tensor. */
    KMT_ERR_CORRUPT_MODEL = 5,
    /** A well-formed model this version of the library cannot run. */
    KMT_ERR_INCOMPATIBLE_MODEL = 6,
    /** An allocation failed or a size would overflow. */
    KMT_ERR_OUT_OF_MEMORY = 7,
    /** A caller buffer is too small; the needed size is reported. */
    KMT_ERR_BUFFER_TOO_SMALL = 8,
    /** A bug in KMTalk: please report it with kmt_last_error(). */
    KMT_ERR_INTERNAL = 9,
    /** A rig file that breaks the container or rig rules: a missing or misshapen
        tensor, a face index out of range, a non-finite value, bad channel names. */
    KMT_ERR_CORRUPT_RIG = 10,
    /** The host's progress callback asked to stop (see kmt_progress_callback):
        nothing was returned, no file written or changed. */
    KMT_ERR_CANCELLED = 11
} kmt_status;

/** A short static description of a status code ("invalid argument"). */
const char *kmt_status_string(kmt_status status);

/**
 * The detailed message of the last failed call on this thread, or "" when
 * the last call succeeded. Valid until the next KMTalk call on this thread.
 */
const char *kmt_last_error(void);

/** Severity of a log message. */
typedef enum kmt_log_level {
    KMT_LOG_DEBUG = 0,
    KMT_LOG_INFO = 1,
    KMT_LOG_WARNING = 2,
    KMT_LOG_ERROR = 3
} kmt_log_level;

/**
 * Receives the library's log messages. `message` is valid only during the
 * call. The callback may be invoked from any thread that calls KMTalk.
 */
typedef void (*kmt_log_callback)(kmt_log_level level, const char *message,
                                 void *user_data);

/**
 * Installs a process-wide log callback (NULL silences the library, which is
 * the default). Messages below `min_level` are not delivered.
 */
void kmt_log_set(kmt_log_callback callback, kmt_log_level min_level,
                 void *user_data);

/* ------------------------------------------------------------------------ */
/* Progress and cancellation                                                 */
/* ------------------------------------------------------------------------ */

/**
 * Reports how far a long call has come and lets the host stop it. The long
 * calls take one in their parameter struct: kmt_animate_file and
 * kmt_animate_pcm (kmt_session_params.progress), kmt_animation_save_with_params
 * and kmt_animation_save_to_memory_with_params (kmt_export_params.progress),
 * kmt_rig_import_file (kmt_rig_import_params.progress), kmt_audio_load_file and
 * kmt_audio_load_memory (kmt_audio_params.progress). NULL: no reports.
 *
 * `fraction` is the share of the call done, 0..1. `stage` names the step it
 * is in: "decode" (reading, mixing down and resampling the audio), "features"
 * (the log-mel spectrogram), "network" (the model; long audio is decoded and
 * run block by block under this name), "export" (encoding and writing files),
 * "import" (reading a rig's files); a static string, other names may come.
 * Return 0 to go on, nonzero to cancel: the call stops at its next step,
 * cleans up (temporary files removed, existing files untouched, no object
 * returned) and returns KMT_ERR_CANCELLED; the callback is not called again.
 *
 * For every call the library promises:
 * - the callback runs on the thread that made the call, during the call, and
 *   never after it returned;
 * - fractions never decrease and stay within 0..1;
 * - it is called when the stage changes or the fraction grew by 1% since the
 *   last report, so about a hundred times per call whatever the input's length,
 *   not per sample or frame (the shortest calls may report only a few times);
 * - a call that succeeds reports fraction 1.0 exactly once, last, before its
 *   result is committed (the animation handed out, the files renamed into
 *   place): a nonzero return there still cancels. A call that fails for
 *   another reason stops reporting where it failed.
 * The callback should return quickly. It must not use the session whose call
 * it reports on; other KMTalk calls are allowed, though they replace this
 * thread's kmt_last_error(). A struct_size that ends inside the callback or
 * user-data field is KMT_ERR_INVALID_ARGUMENT.
 */
typedef int (*kmt_progress_callback)(float fraction, const char *stage,
                                     void *user_data);

/* ------------------------------------------------------------------------ */
/* Handles                                                                   */
/* ------------------------------------------------------------------------ */

/** Immutable model weights and configuration; shareable across threads. */
typedef struct kmt_model kmt_model;
/** Per-stream inference state: offline calls and one streamed utterance at a
    time. Keeps its model alive; the animations it returns outlive it. */
typedef struct kmt_session kmt_session;
/** An animation result: frames x channels of float weights at a frame rate. */
typedef struct kmt_animation kmt_animation;
/** A character rig (template mesh plus named blendshapes); immutable, shareable
    across threads. */
typedef struct kmt_rig kmt_rig;
/** Decoded audio: mono float samples at a sample rate (kmt_audio_load_file);
    immutable, shareable across threads. */
typedef struct kmt_audio kmt_audio;

/* ------------------------------------------------------------------------ */
/* Models                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * Options for loading a model. Initialise with kmt_model_params_init(&p,
 * sizeof p), then change fields. Fields are only ever appended, and every
 * field is 8-byte aligned in groups so that sizeof() changes with each
 * addition; struct_size tells the library which fields the caller knows, so
 * older callers keep working and newer callers' extra fields are ignored by
 * older libraries. Every parameter struct follows these rules and has its own
 * kmt_*_params_init function.
 */
typedef struct kmt_model_params {
    /** sizeof(kmt_model_params) as the caller was compiled. */
    size_t struct_size;
    /** Reserved for future flags; must be 0. */
    uint32_t flags;
    /** Reserved (fills what would be tail padding, so a later 4-byte field cannot hide
        in it); must be 0. */
    uint32_t reserved;
} kmt_model_params;

/**
 * Fills `*params` with the default model options; the way to set up a
 * kmt_model_params before changing fields:
 *
 *     kmt_model_params p;
 *     kmt_model_params_init(&p, sizeof p);
 *
 * `struct_size` is sizeof(*params) as the caller was compiled. The library
 * writes exactly `struct_size` bytes at `params`, never more: the defaults of
 * the fields it knows, zeros for any bytes past the struct it knows (the
 * fields of a newer header than the library's; 0 is every field's default),
 * and `struct_size` (the caller's value) into params->struct_size. A caller
 * built against an older, smaller struct gets only its own bytes written.
 * Errors: KMT_ERR_INVALID_ARGUMENT, with nothing written, for a NULL `params`,
 * a struct_size below sizeof(size_t) or above 65536, or one that ends inside a
 * pointer field.
 *
 * The caller owns `params` (the library keeps no pointer to it). Any thread
 * may call it at any time.
 *
 * Why by pointer: a struct returned by value is the caller's size, not the
 * library's, so a host built against an older header calling a newer library
 * whose struct grew would have more bytes written than it reserved. The
 * _init functions take the caller's size instead (version 0.1's by-value
 * kmt_*_default_params() are gone since 1.0).
 */
kmt_status kmt_model_params_init(kmt_model_params *params, size_t struct_size);


/**
 * Loads a model from a safetensors file written by KMTalk's exporter.
 * `params` may be NULL for defaults. On success *out_model owns the model.
 * Only regular files are opened (a FIFO, device or socket is KMT_ERR_IO at
 * once, never a blocked call); the header is checked against the file's size
 * before the file is read, and files over 4 GiB, or that cannot be held in
 * memory, are KMT_ERR_OUT_OF_MEMORY. The network is run once on a short test
 * signal: weights that load but cannot compute (say 3e38, which overflows)
 * are KMT_ERR_CORRUPT_MODEL here rather than an error on every later call.
 * Errors: KMT_ERR_INVALID_ARGUMENT (NULL or empty path), KMT_ERR_IO
 * (missing/unreadable/not a regular file), KMT_ERR_UNSUPPORTED_FORMAT (a
 * safetensors file that is not a KMTalk model: no `format` metadata, another
 * format such as a rig, a newer format version), KMT_ERR_CORRUPT_MODEL
 * (container or tensor errors, unusable weights), KMT_ERR_INCOMPATIBLE_MODEL
 * (unknown architecture), KMT_ERR_OUT_OF_MEMORY.
 */
kmt_status kmt_model_load_file(const char *path, const kmt_model_params *params,
                               kmt_model **out_model);

/**
 * Loads a model from `size` bytes at `data` (for example an asset read by a
 * game engine). The bytes are copied as needed; the caller may free `data`
 * when the call returns.
 */
kmt_status kmt_model_load_memory(const void *data, size_t size,
                                 const kmt_model_params *params,
                                 kmt_model **out_model);

/** Releases the caller's reference to a model. Accepts NULL. */
void kmt_model_free(kmt_model *model);

/*
 * The model's fixed properties. Each writes the value into its out-parameter
 * (set to 0 or NULL first) and returns KMT_OK; a NULL model or out-parameter,
 * or an index not below kmt_model_channel_count(), is
 * KMT_ERR_INVALID_ARGUMENT (see ERRORS, "The one rule for reading values").
 * Strings are owned by the model. Any thread may call them at any time.
 */

/** *out_name: the model's architecture name, for example "kmtalk". */
kmt_status kmt_model_architecture(const kmt_model *model, const char **out_name);

/**
 * *out_space: what the model's channels are: "arkit" (the 52 ARKit blendshape
 * weights), "rig" (weights of a rig's named shapes) or "vertices" (per-vertex
 * offsets from the model's own template mesh: kmt_animation_vertices poses it
 * without a rig, GLB export is refused).
 */
kmt_status kmt_model_motion_space(const kmt_model *model, const char **out_space);

/** *out_rate: the audio sample rate the model consumes (Hz). */
kmt_status kmt_model_sample_rate(const kmt_model *model, int32_t *out_rate);

/** *out_fps: the model's native output frame rate (frames per second). */
kmt_status kmt_model_fps(const kmt_model *model, double *out_fps);

/** *out_count: the number of output channels (motion dimensions). */
kmt_status kmt_model_channel_count(const kmt_model *model, size_t *out_count);

/** *out_name: the name of output channel `index` (below
    kmt_model_channel_count()). */
kmt_status kmt_model_channel_name(const kmt_model *model, size_t index,
                                  const char **out_name);

/** *out_count: the total number of weights (scalars) in the model. */
kmt_status kmt_model_parameter_count(const kmt_model *model, uint64_t *out_count);

/**
 * Copies the `__metadata__` value stored under `key` into `buffer` as a
 * NUL-terminated string. *out_length (may be NULL) receives the value's
 * length without the NUL. If `buffer_size` is too small the call returns
 * KMT_ERR_BUFFER_TOO_SMALL and still sets *out_length, so a caller can ask
 * with (NULL, 0) first. A missing key gives KMT_ERR_INVALID_ARGUMENT.
 */
kmt_status kmt_model_metadata(const kmt_model *model, const char *key,
                              char *buffer, size_t buffer_size,
                              size_t *out_length);

/**
 * The model's audio front-end on its own: the log-mel spectrogram the network
 * sees for `sample_count` mono samples at kmt_model_sample_rate() (decode and
 * resample a file first, e.g. with kmt_audio_load_file). Writes F x B floats
 * into `buffer`, frame by frame (F frames at the model's feature rate, B mel
 * bands, natural-log power floored as the model's config says).
 * *out_written (may be NULL) receives F x B, the floats needed, which are
 * written unless `buffer_length` is smaller (KMT_ERR_BUFFER_TOO_SMALL);
 * *out_bands (may be NULL) receives B. For checking a front-end against a
 * reference and for research hosts; animating needs none of it.
 * Errors: KMT_ERR_INVALID_ARGUMENT (NULL model, NULL samples with
 * sample_count > 0, NULL buffer with buffer_length > 0),
 * KMT_ERR_INVALID_AUDIO (a NaN or infinite sample), KMT_ERR_OUT_OF_MEMORY.
 */
kmt_status kmt_model_log_mel(const kmt_model *model, const float *samples,
                             size_t sample_count, float *buffer,
                             size_t buffer_length, size_t *out_written,
                             size_t *out_bands);

/* ------------------------------------------------------------------------ */
/* Sessions                                                                  */
/* ------------------------------------------------------------------------ */

/** What to do with NaN, infinite or absurdly large (|x| > 1000) input samples. */
typedef enum kmt_nonfinite_policy {
    /** Fail with KMT_ERR_INVALID_AUDIO naming the first bad sample (default). */
    KMT_NONFINITE_REJECT = 0,
    /** Replace every non-finite sample with 0 (silence) and go on. */
    KMT_NONFINITE_ZERO = 1
} kmt_nonfinite_policy;

/**
 * Options for a session. Initialise with kmt_session_params_init(&p, sizeof p),
 * then change fields. Fields are only ever appended (see kmt_model_params).
 */
typedef struct kmt_session_params {
    /** sizeof(kmt_session_params) as the caller was compiled. */
    size_t struct_size;
    /** Threads this session's calls may use: 0 or 1 (default 0) the calling
        thread only; N > 1 splits long sequences over N threads started for
        the call (see Thread safety above). */
    int32_t n_threads;
    /** Handling of NaN / infinite input samples. */
    kmt_nonfinite_policy nonfinite_policy;
    /** Output frame rate, 1..240 fps; 0 = the model's native rate. */
    double output_fps;
    /** Streaming latency in milliseconds (see Streaming): 0 = the model's
        default, KMT_LATENCY_EXACT = its full look-ahead (frames equal to
        kmt_animate_pcm), otherwise >= 20 as for kmt_session_set_latency_ms
        (values at or above the full look-ahead are exact). Applies from the
        first streaming call; kmt_session_set_latency_ms changes it later. */
    double latency_ms;
    /** Progress of this session's offline calls (kmt_animate_file,
        kmt_animate_pcm; not the streaming calls), and their cancellation: see
        kmt_progress_callback. NULL: none. The session keeps the pointer and
        `progress_user_data` and calls it during those calls only, on their
        thread. */
    kmt_progress_callback progress;
    /** Passed to `progress` as given; the host keeps it valid while the
        session may call it. */
    void *progress_user_data;
} kmt_session_params;

/** kmt_session_params.latency_ms: stream at the model's full look-ahead. */
#define KMT_LATENCY_EXACT (-1)

/**
 * Fills `*params` with the default session options (n_threads 0: one thread,
 * native fps, KMT_NONFINITE_REJECT, the model's default latency, no progress
 * callback):
 *
 *     kmt_session_params p;
 *     kmt_session_params_init(&p, sizeof p);
 *     p.output_fps = 60;
 *
 * Writes exactly `struct_size` bytes (sizeof(*params) as the caller was
 * compiled): the defaults of the fields the library knows, zeros beyond them,
 * and `struct_size` into params->struct_size. Errors, ownership and thread
 * safety as kmt_model_params_init (any thread; the caller owns `params`),.
 */
kmt_status kmt_session_params_init(kmt_session_params *params, size_t struct_size);


/**
 * Creates a session on `model`. `params` may be NULL for defaults. The
 * session holds a reference to the model.
 */
kmt_status kmt_session_create(const kmt_model *model,
                              const kmt_session_params *params,
                              kmt_session **out_session);

/** Releases a session. Accepts NULL. */
void kmt_session_free(kmt_session *session);

/* ------------------------------------------------------------------------ */
/* Offline animation                                                         */
/* ------------------------------------------------------------------------ */

/**
 * Decodes the audio file at `path` and animates all of it.
 * Errors: KMT_ERR_INVALID_ARGUMENT (NULL or empty path), KMT_ERR_IO
 * (missing/unreadable/not a regular file), KMT_ERR_UNSUPPORTED_FORMAT (not a
 * format libsndfile recognises, including a file cut inside its header),
 * KMT_ERR_INVALID_AUDIO (empty, truncated, corrupt, bad rate, NaN samples).
 * Audio longer than two minutes is animated block by block through the
 * streaming network at its full look-ahead (the same frames within float
 * rounding), so memory stays bounded by the output frames.
 * With a progress callback in the session's params the call reports its
 * stages ("decode", "features", "network"; long audio "network" block by
 * block) and may be cancelled: KMT_ERR_CANCELLED, no animation.
 */
kmt_status kmt_animate_file(kmt_session *session, const char *path,
                            kmt_animation **out_animation);

/**
 * Animates `frame_count` frames of interleaved float PCM (`channels` samples
 * per frame, nominal range -1..1) at `sample_rate` Hz (8000..192000).
 * Long input, progress and cancellation as for kmt_animate_file.
 */
kmt_status kmt_animate_pcm(kmt_session *session, const float *samples,
                           size_t frame_count, int32_t sample_rate,
                           int32_t channels, kmt_animation **out_animation);

/* ------------------------------------------------------------------------ */
/* Streaming                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Real-time animation of one utterance at a time on a session: push PCM as it
 * arrives, pull the frames that have become final, flush at the end of the
 * utterance, reset before the next one.
 *
 *     kmt_session_push_s16(session, mic, 160, 16000, 1);   // 10 ms
 *     size_t n; double t0;
 *     kmt_session_pull(session, frames, capacity, &n, &t0); // n frames from t0 s
 *     ...
 *     kmt_session_flush(session);                           // end of utterance
 *     kmt_session_pull(session, frames, capacity, &n, &t0); // the last frames
 *     kmt_session_reset(session);                           // next utterance
 *
 * - Latency: a frame becomes final kmt_session_latency_ms() after its time,
 *   once the audio reaching that far has been pushed. The default is the
 *   model's (its file's config.streaming.default_latency_ms; 150 ms for files
 *   that name none), or its full look-ahead when that is shorter;
 *   kmt_session_params.latency_ms chooses another for a new session and
 *   kmt_session_set_latency_ms changes it between utterances. Input not at the model's rate adds
 *   the resampler's delay.
 * - Equivalence: at kmt_session_exact_latency_ms() or more, the concatenated
 *   pulled frames equal what kmt_animate_pcm returns for the same audio (same
 *   frame count, values within 1e-3, in practice ~1e-7), whatever the chunk
 *   sizes. Below it each frame is computed as if the audio ended
 *   kmt_session_latency_ms() after it: the frame count is the same, values
 *   may differ (docs/results.md, "Streaming", measures by how much for the
 *   shipped models).
 * - Memory is bounded: the session keeps a window of recent audio and state
 *   whatever the stream's duration; unpulled frames accumulate until pulled.
 * - Threads: as every session call, one thread at a time per session; many
 *   sessions on one shared model may stream on many threads at once.
 * - Models with full attention (encoder.band_back null) cannot stream: the
 *   streaming calls fail with KMT_ERR_INCOMPATIBLE_MODEL.
 * - A NULL session is KMT_ERR_INVALID_ARGUMENT.
 */

/**
 * Pushes `frames` frames of interleaved float PCM (`channels` samples per
 * frame, nominal range -1..1) at `sample_rate` Hz (8000..192000). The first
 * push after kmt_session_create or kmt_session_reset fixes the utterance's
 * rate and channel count; a push with another is KMT_ERR_INVALID_ARGUMENT, as
 * is a push after kmt_session_flush without a reset. `frames` may be 0 (then
 * `pcm` may be NULL). Non-finite samples follow the session's
 * nonfinite_policy (with KMT_NONFINITE_REJECT the whole chunk is dropped and
 * KMT_ERR_INVALID_AUDIO returned; the stream may continue). The caller keeps
 * ownership of `pcm`, which is not retained after the call.
 */
kmt_status kmt_session_push_f32(kmt_session *session, const float *pcm,
                                size_t frames, int32_t sample_rate,
                                int32_t channels);

/** As kmt_session_push_f32 for 16-bit PCM (scaled by 1/32768). */
kmt_status kmt_session_push_s16(kmt_session *session, const int16_t *pcm,
                                size_t frames, int32_t sample_rate,
                                int32_t channels);

/**
 * Pushes one block of audio to each of `count` sessions at once: for a host
 * that ticks many live streams (a game server, a call centre). For each
 * session the outcome is that of kmt_session_push_f32(sessions[i], pcm[i],
 * frames[i], sample_rate, channels): the same frames, bit for bit, whichever
 * sessions share the call (every batched stage computes a session's rows
 * independently of the others'; tested). The sessions that share a model run each network layer together,
 * one pass over its weights for all their new audio, where separate pushes
 * make one pass per session; with many streams that pass is most of the cost
 * (kmtalk bench --streams N --stream-batch measures both).
 *
 * `sessions`: `count` sessions, none NULL and none listed twice. `pcm[i]`:
 * interleaved float frames for sessions[i], NULL only when frames[i] is 0.
 * `frames`: the frame count of each block. `sample_rate` and `channels`
 * apply to every block (hosts with streams at several rates make one call
 * per rate). `out_statuses`: NULL, or `count` entries that receive each
 * session's status.
 *
 * Returns KMT_OK when every push succeeded. Otherwise the status of the first
 * session that failed, and kmt_last_error() names its index and the reason;
 * a session that fails is left as a failed kmt_session_push_f32 leaves it and
 * the others are still pushed. Invalid arguments (NULL arrays with count > 0,
 * a NULL or repeated session, a bad rate or channel count, a NULL block with
 * frames) push nothing and set every out_statuses entry to the status.
 *
 * Threads: the call uses every listed session; no other thread may use any of
 * them until it returns. It runs with the n_threads of sessions[0].
 */
kmt_status kmt_sessions_push_f32(kmt_session *const *sessions, size_t count,
                                 const float *const *pcm, const size_t *frames,
                                 int32_t sample_rate, int32_t channels,
                                 kmt_status *out_statuses);

/** As kmt_sessions_push_f32 for 16-bit PCM (scaled by 1/32768). */
kmt_status kmt_sessions_push_s16(kmt_session *const *sessions, size_t count,
                                 const int16_t *const *pcm,
                                 const size_t *frames, int32_t sample_rate,
                                 int32_t channels, kmt_status *out_statuses);

/**
 * Moves as many final frames as fit in `buffer` (`buffer_length` floats; a
 * frame is kmt_model_channel_count floats) into it, in order; *out_frames
 * receives how many (0 when none is final yet, also before any push), and
 * *out_first_time (may be NULL) the time in seconds of the first one (frame
 * i of the utterance is at i / kmt_session_output_fps). `buffer` may be NULL
 * only when `buffer_length` is 0. When frames are pending but not one fits
 * (`buffer_length` below kmt_model_channel_count, or 0), the call fails with
 * KMT_ERR_BUFFER_TOO_SMALL and kmt_last_error() gives the floats one frame
 * needs, so a "pull while pending" loop cannot spin. The caller owns `buffer`.
 */
kmt_status kmt_session_pull(kmt_session *session, float *buffer,
                            size_t buffer_length, size_t *out_frames,
                            double *out_first_time);

/**
 * Ends the utterance: the remaining frames become final (pull them). Further
 * pushes fail until kmt_session_reset. Flushing twice, or without any push,
 * is allowed and adds nothing.
 */
kmt_status kmt_session_flush(kmt_session *session);

/**
 * Starts a new utterance with the same settings: discards the audio, state
 * and unpulled frames of the current one. The next push may use a new rate
 * and channel count.
 */
kmt_status kmt_session_reset(kmt_session *session);

/** Number of final frames waiting to be pulled into *out_frames. */
kmt_status kmt_session_pending_frames(kmt_session *session,
                                      size_t *out_frames);

/**
 * *out_ms: the streaming latency in milliseconds: how long after its time a
 * frame becomes final. By default 150, or the model's full look-ahead when
 * that is shorter; else the value set with kmt_session_set_latency_ms
 * (reported as kmt_session_exact_latency_ms when set at or above it).
 * Errors (*out_ms is then 0): KMT_ERR_INVALID_ARGUMENT (NULL session or
 * out_ms), KMT_ERR_INCOMPATIBLE_MODEL (a model that cannot stream).
 */
kmt_status kmt_session_latency_ms(const kmt_session *session, double *out_ms);

/**
 * *out_ms: the model's full look-ahead in milliseconds for this session: the
 * smallest latency at which streamed frames equal kmt_animate_pcm (the STFT
 * half window, convolutions, attention bands and key-frame locator; one
 * native frame more when output_fps differs from the model's rate; `kmtalk
 * info` prints it for a model file). Pass it to kmt_session_set_latency_ms
 * for exact streaming. Errors as kmt_session_latency_ms.
 */
kmt_status kmt_session_exact_latency_ms(const kmt_session *session,
                                        double *out_ms);

/**
 * Chooses the streaming latency in milliseconds (>= 20), before the first
 * push of an utterance (after create or reset; otherwise
 * KMT_ERR_INVALID_ARGUMENT). At or above kmt_session_exact_latency_ms the
 * frames are exact (equal to kmt_animate_pcm); below it each frame is emitted
 * that long after its time, computed as if the audio ended there, and may
 * differ from the offline result (`kmtalk bench --stream` measures by how
 * much). The frame count is the offline one either way. The setting stays until changed.
 */
kmt_status kmt_session_set_latency_ms(kmt_session *session, double latency_ms);

/**
 * *out_fps: frames per second of the session's output (output_fps or the
 * model's native rate). KMT_ERR_INVALID_ARGUMENT: a NULL session or out_fps.
 */
kmt_status kmt_session_output_fps(const kmt_session *session, double *out_fps);

/** One step of a session's last offline call and its wall time
    (kmt_session_stage_times). */
typedef struct kmt_stage_time {
    /** The step's name, e.g. "decode+resample", "features", "encoder",
        "cmc", "fps"; a static string owned by the library (valid while it
        is loaded). Names may change between versions: for profiles, not
        for program logic. */
    const char *stage;
    /** Wall time of the step, seconds. */
    double seconds;
} kmt_stage_time;

/**
 * Where the time of the session's last kmt_animate_file / kmt_animate_pcm
 * went, step by step in order (a profile for benchmarks and hosts that
 * budget their frame time). *out_count (may be NULL) receives the number of
 * steps (0 before the first offline call); they are written unless
 * `buffer_length` is smaller (KMT_ERR_BUFFER_TOO_SMALL), so a caller can ask
 * with (NULL, 0) first. Thread safety as for the session's other calls.
 * KMT_ERR_INVALID_ARGUMENT: a NULL session, or a NULL buffer with
 * buffer_length > 0.
 */
kmt_status kmt_session_stage_times(const kmt_session *session,
                                   kmt_stage_time *buffer,
                                   size_t buffer_length, size_t *out_count);

/* ------------------------------------------------------------------------ */
/* Audio decoding                                                            */
/* ------------------------------------------------------------------------ */

/*
 * The library's own audio decoder for hosts: the file formats kmt_animate_file
 * reads (every format libsndfile reads, see AUDIO INPUT), mixed down to mono
 * and resampled with libsoxr, as float samples. A host that streams a file
 * (kmt_session_push_f32) decodes it with these calls instead of its own
 * parser:
 *
 *     kmt_audio *audio = NULL;
 *     const float *pcm = NULL;
 *     size_t n = 0, chunk = 160, i;
 *     int32_t rate = 0;
 *     if (kmt_audio_load_file("speech.flac", NULL, &audio) == KMT_OK &&
 *         kmt_audio_samples(audio, &pcm) == KMT_OK &&
 *         kmt_audio_sample_count(audio, &n) == KMT_OK &&
 *         kmt_audio_sample_rate(audio, &rate) == KMT_OK) {
 *         for (i = 0; i < n; i += chunk)
 *             kmt_session_push_f32(session, pcm + i, n - i < chunk ? n - i : chunk, rate, 1);
 *     }
 *     kmt_audio_free(audio);
 *
 * At the model's rate (kmt_model_sample_rate) the samples are exactly those
 * kmt_animate_file feeds the network for the same file and nonfinite_policy.
 * Containers libsndfile does not read (MP4/M4A/AAC, video) are
 * KMT_ERR_UNSUPPORTED_FORMAT with a message suggesting ffmpeg.
 * Threads: a kmt_audio is immutable, any thread may read it; the load calls
 * may run on any threads at once.
 */

/**
 * Options for kmt_audio_load_file and kmt_audio_load_memory. Initialise with
 * kmt_audio_params_init(&p, sizeof p), then change fields (struct rules as for
 * kmt_model_params). Read during the call only.
 */
typedef struct kmt_audio_params {
    /** sizeof(kmt_audio_params) as the caller was compiled. */
    size_t struct_size;
    /** The rate of the decoded samples in Hz, 8000..192000 (resampled with
        libsoxr at high quality, as for kmt_animate_file); 0 (default) keeps
        the file's own rate. Pass the rate kmt_model_sample_rate() gives
        for the samples the network would get. */
    int32_t sample_rate;
    /** Handling of NaN, infinite and absurd (|x| > 1000) samples, as
        kmt_session_params.nonfinite_policy (default KMT_NONFINITE_REJECT). */
    kmt_nonfinite_policy nonfinite_policy;
    /** Progress of the decoding (stage "decode", per block of 16384 frames)
        and its cancellation: see kmt_progress_callback. NULL: none. */
    kmt_progress_callback progress;
    /** Passed to `progress` as given. */
    void *progress_user_data;
} kmt_audio_params;

/**
 * Fills `*params` with the default audio options (the file's own rate,
 * KMT_NONFINITE_REJECT, no progress):
 *
 *     kmt_audio_params p;
 *     kmt_audio_params_init(&p, sizeof p);
 *     p.sample_rate = 16000;
 *
 * Writes exactly `struct_size` bytes (sizeof(*params) as the caller was
 * compiled): the defaults of the fields the library knows, zeros beyond them,
 * and `struct_size` into params->struct_size. Errors, ownership and thread
 * safety as kmt_model_params_init (any thread; the caller owns `params`).
 */
kmt_status kmt_audio_params_init(kmt_audio_params *params, size_t struct_size);

/**
 * Decodes the audio file at `path` whole into mono float samples (channels
 * averaged) at params->sample_rate. `params` may be NULL for defaults. On
 * success *out_audio owns the result (free it with kmt_audio_free); on failure
 * it is NULL. Only regular files are opened (a directory, FIFO or device is
 * KMT_ERR_IO at once). The whole signal is held in memory: 4 bytes per
 * output sample (an hour at 16 kHz is 230 MB).
 * Errors, as kmt_animate_file for the same file: KMT_ERR_INVALID_ARGUMENT
 * (NULL `path` or `out_audio`, an empty path, bad params: a sample_rate
 * outside 0 and 8000..192000, an unknown nonfinite_policy), KMT_ERR_IO
 * (missing, unreadable, not a regular file), KMT_ERR_UNSUPPORTED_FORMAT (not
 * a format libsndfile recognises, a file cut inside its header),
 * KMT_ERR_INVALID_AUDIO (empty, truncated, corrupt, a file rate outside
 * 8 kHz..192 kHz, non-finite samples under KMT_NONFINITE_REJECT),
 * KMT_ERR_CANCELLED (the progress callback stopped it), KMT_ERR_OUT_OF_MEMORY.
 * Thread safety: any thread, any number at once.
 */
kmt_status kmt_audio_load_file(const char *path, const kmt_audio_params *params,
                               kmt_audio **out_audio);

/**
 * Decodes an audio file held in memory: `size` bytes at `data` (for example
 * an asset a game engine read from its pack), with libsndfile's virtual I/O.
 * The bytes are read during the call only; the caller may free `data` when it
 * returns. Messages name the input "audio in memory". Errors as
 * kmt_audio_load_file, with KMT_ERR_INVALID_ARGUMENT for a NULL `data` and
 * KMT_ERR_INVALID_AUDIO for `size` 0 (no KMT_ERR_IO).
 */
kmt_status kmt_audio_load_memory(const void *data, size_t size,
                                 const kmt_audio_params *params,
                                 kmt_audio **out_audio);

/** Releases decoded audio (its samples pointer becomes invalid). Accepts NULL. */
void kmt_audio_free(kmt_audio *audio);

/*
 * The decoded audio's properties. Each writes the value into its
 * out-parameter (set to 0 or NULL first) and returns KMT_OK; a NULL audio or
 * out-parameter is KMT_ERR_INVALID_ARGUMENT (see ERRORS). Pointers are owned
 * by the audio and valid until kmt_audio_free(audio). Any thread may call
 * them at any time.
 */

/** *out_rate: the rate of the decoded samples in Hz (params->sample_rate, or
    the file's own). */
kmt_status kmt_audio_sample_rate(const kmt_audio *audio, int32_t *out_rate);

/** *out_count: the number of decoded mono samples (at least 1). */
kmt_status kmt_audio_sample_count(const kmt_audio *audio, size_t *out_count);

/**
 * *out_samples: the decoded mono samples, kmt_audio_sample_count() floats,
 * nominal range -1..1; owned by `audio` and valid until kmt_audio_free(audio).
 */
kmt_status kmt_audio_samples(const kmt_audio *audio, const float **out_samples);

/** *out_rate: the file's own sample rate in Hz. */
kmt_status kmt_audio_source_rate(const kmt_audio *audio, int32_t *out_rate);

/** *out_channels: the file's channel count (before the mixdown). */
kmt_status kmt_audio_source_channels(const kmt_audio *audio, int32_t *out_channels);

/**
 * *out_name: libsndfile's name for the file's container and encoding, for
 * example "WAV (Microsoft) / Signed 16 bit PCM" or "FLAC (Free Lossless Audio
 * Codec) / 16 bit PCM". Owned by `audio`.
 */
kmt_status kmt_audio_format_name(const kmt_audio *audio, const char **out_name);

/* ------------------------------------------------------------------------ */
/* Animations                                                                */
/* ------------------------------------------------------------------------ */

/** Releases an animation. Accepts NULL. */
void kmt_animation_free(kmt_animation *animation);

/*
 * The animation's properties. Each writes the value into its out-parameter
 * (set to 0 or NULL first) and returns KMT_OK; a NULL animation or
 * out-parameter, or an index not below kmt_animation_channel_count(), is
 * KMT_ERR_INVALID_ARGUMENT (see ERRORS). Strings are owned by the animation.
 * Any thread may call them at any time.
 */

/** *out_count: the number of frames. */
kmt_status kmt_animation_frame_count(const kmt_animation *animation,
                                     size_t *out_count);

/** *out_count: the number of channels per frame. */
kmt_status kmt_animation_channel_count(const kmt_animation *animation,
                                       size_t *out_count);

/** *out_fps: the frame rate in frames per second. Frame i is at time i / fps. */
kmt_status kmt_animation_fps(const kmt_animation *animation, double *out_fps);

/** *out_name: the name of channel `index` (below
    kmt_animation_channel_count()). */
kmt_status kmt_animation_channel_name(const kmt_animation *animation,
                                      size_t index, const char **out_name);

/**
 * Copies frames [first_frame, first_frame + frame_count) into `buffer`,
 * row-major (frame by frame, channel_count floats each). `buffer_length` is
 * the buffer's capacity in floats. *out_written (may be NULL) receives the
 * number of floats needed, which are written unless the buffer is too small
 * (KMT_ERR_BUFFER_TOO_SMALL). A range past the end is KMT_ERR_INVALID_ARGUMENT.
 */
kmt_status kmt_animation_read_frames(const kmt_animation *animation,
                                     size_t first_frame, size_t frame_count,
                                     float *buffer, size_t buffer_length,
                                     size_t *out_written);

/**
 * A new animation for a character whose shapes are not named or split as the
 * model's channels are (Character Creator, VRM visemes, Daz, a studio rig):
 * each target shape is a weighted sum of the animation's channels, given by a
 * channel map, a JSON object (UTF-8 text, read during the call):
 *
 *     {"channels": {"jawOpen": "Mouth_Open",
 *                   "mouthSmileLeft": {"Mouth_Smile_L": 1.0, "Cheek_Raise_L": 0.3},
 *                   "eyeBlinkLeft": ["Eye_Blink_L", "Eye_Squint_L"]},
 *      "keep_unmapped": false, "clamp": true}
 *
 * A channel maps to one name (weight 1), a list of names (weight 1 each) or
 * an object of name -> weight (|weight| <= 10). Targets named by several
 * channels get the sum. The new channels are the targets in the order the
 * map first names them, then, with "keep_unmapped": true, the channels the
 * map does not mention under their own names. "clamp" (default true) keeps
 * every value within 0..1. Frame count, fps, provenance and phone track are
 * the source's; mouth cues need ARKit channels, so export them from the
 * source animation. The result matches a rig with those shape names exactly
 * and exports to every format as any animation; it is independent of the
 * source (free both). docs/rig.md, "Channel maps", has examples.
 * Errors: KMT_ERR_INVALID_ARGUMENT (NULL arguments, text that is not JSON or
 * not a channel map, a channel the animation does not have, a kept channel
 * whose name is also a target, a vertices-space animation),
 * KMT_ERR_OUT_OF_MEMORY.
 */
kmt_status kmt_animation_remap(const kmt_animation *animation,
                               const char *channel_map_json,
                               kmt_animation **out_animation);

/* ------------------------------------------------------------------------ */
/* Rigs                                                                      */
/* ------------------------------------------------------------------------ */

/*
 * A rig is a neutral mesh (V vertices, F triangles) plus S named blendshapes,
 * read from a kmtalk-rig safetensors file (docs/rig.md). Posed vertices for
 * shape weights w are: vertices + sum_s w[s] * deltas[s].
 *
 * An animation's channels are matched to the rig's shapes by name, tolerant
 * of the naming styles in use: exact (jawOpen), first letter upper-case
 * (JawOpen, Live Link / Unity), ICT-FaceKit (eyeBlink_L), snake case
 * (eye_blink_left), any case and separators, tool prefixes (blendShape1.,
 * ARKit_), and one channel without a side (browInnerUp, cheekPuff) feeding
 * both halves of a rig that splits it (browInnerUp_L and browInnerUp_R).
 * jawLeft / jawRight / mouthLeft / mouthRight are directions, never sides.
 * Each rig shape is driven by at most one channel; the more exact rule wins.
 * kmt_rig_unmatched_channels(), kmt_rig_unmatched_shapes() and
 * kmt_rig_shape_channels() show the outcome.
 */

/** Whether kmt_animation_vertices() writes positions or offsets. */
typedef enum kmt_vertex_mode {
    /** Positions: the neutral vertices plus the weighted deltas. */
    KMT_VERTICES_ABSOLUTE = 0,
    /** Offsets from the neutral vertices: the weighted deltas alone. */
    KMT_VERTICES_OFFSETS = 1
} kmt_vertex_mode;

/**
 * Loads a rig from a kmtalk-rig safetensors file. On success *out_rig owns
 * the rig. Files are opened and sized as by kmt_model_load_file (regular
 * files only, 4 GiB at most). Errors: KMT_ERR_IO (missing/unreadable/not a
 * regular file), KMT_ERR_OUT_OF_MEMORY, KMT_ERR_UNSUPPORTED_FORMAT
 * (not a rig, or a newer format version), KMT_ERR_CORRUPT_RIG (container or
 * rig rules broken; kmt_last_error() names the file and the problem).
 */
kmt_status kmt_rig_load_file(const char *path, kmt_rig **out_rig);

/**
 * Loads a rig from `size` bytes at `data`. The bytes are copied; the caller
 * may free `data` when the call returns. Errors as kmt_rig_load_file().
 */
kmt_status kmt_rig_load_memory(const void *data, size_t size, kmt_rig **out_rig);

/** Import every OBJ of a folder even when an ICT-FaceKit manifest
    (vertex_indices.json) lists fewer. */
#define KMT_RIG_IMPORT_ALL_OBJS 1u
/** Follow references that leave the asset's folder (absolute paths, "..",
    symbolic links). Off by default: a crafted asset cannot read other files. */
#define KMT_RIG_IMPORT_ALLOW_OUTSIDE_FILES 2u

/**
 * Options for kmt_rig_import_file. Initialise with
 * kmt_rig_import_params_init(&p, sizeof p), then change fields (struct rules
 * as for kmt_model_params). The strings are read during the call only.
 */
typedef struct kmt_rig_import_params {
    /** sizeof(kmt_rig_import_params) as the caller was compiled. */
    size_t struct_size;
    /** glTF: the mesh to import, by name or by index as decimal text; NULL:
        the mesh with morph targets (an error when several have them). */
    const char *mesh;
    /** OBJ folder: the neutral mesh's file name; NULL: the one OBJ whose name
        contains "neutral". */
    const char *neutral;
    /** OBJ folder: the length unit, "m", "cm" or "mm"; NULL: guessed from the
        head's size (logged). glTF is always metres. */
    const char *units;
    /** KMT_RIG_IMPORT_* flags; other bits must be 0. */
    uint32_t flags;
    /** Reserved; must be 0. */
    uint32_t reserved;
    /** Progress of the import (stage "import", per file or mesh primitive
        read) and its cancellation: see kmt_progress_callback. NULL: none.
        Callers built against a header without these two fields (struct_size
        40) get no progress. */
    kmt_progress_callback progress;
    /** Passed to `progress` as given. */
    void *progress_user_data;
} kmt_rig_import_params;

/**
 * Fills `*params` with the default rig import options (everything 0/NULL):
 *
 *     kmt_rig_import_params p;
 *     kmt_rig_import_params_init(&p, sizeof p);
 *     p.units = "cm";
 *
 * Writes exactly `struct_size` bytes (sizeof(*params) as the caller was
 * compiled): the defaults of the fields the library knows, zeros beyond them,
 * and `struct_size` into params->struct_size. Errors, ownership and thread
 * safety as kmt_model_params_init (any thread; the caller owns `params`),.
 */
kmt_status kmt_rig_import_params_init(kmt_rig_import_params *params, size_t struct_size);


/**
 * Imports a rig from a user's asset: a glTF 2.0 file (.gltf with its buffers,
 * or .glb) whose mesh has morph targets, or a folder of Wavefront OBJ files (a
 * neutral mesh plus one OBJ per blendshape with the same topology, the
 * ICT-FaceKit layout). Shapes keep their names; kmt_rig_shape_channels matches
 * them to a model's channels as for any rig. What the importer decided
 * (units guessed, OBJs skipped, UVs dropped at seams) goes to the log callback
 * at KMT_LOG_INFO. `params` may be NULL for defaults. External files must stay
 * in the asset's folder unless KMT_RIG_IMPORT_ALLOW_OUTSIDE_FILES is set.
 * Errors: KMT_ERR_INVALID_ARGUMENT (NULL or empty path, bad params, no neutral
 * or no shapes in a folder, a reference outside the folder),
 * KMT_ERR_IO (unreadable, not a regular file), KMT_ERR_UNSUPPORTED_FORMAT
 * (not glTF 2.0, a required extension it cannot decode), KMT_ERR_CORRUPT_RIG
 * (malformed file, with the file and the problem), KMT_ERR_OUT_OF_MEMORY.
 */
kmt_status kmt_rig_import_file(const char *path,
                               const kmt_rig_import_params *params,
                               kmt_rig **out_rig);

/** kmt_rig_save: store the blendshape deltas as float16 (half the size;
    refused with KMT_ERR_INVALID_ARGUMENT when rounding moves any delta by
    0.1 mm or more). */
#define KMT_RIG_SAVE_HALF 1u

/**
 * Writes `rig` as a kmtalk-rig safetensors file that kmt_rig_load_file reads
 * back (atomically and durably, as kmt_animation_save writes). `flags`:
 * KMT_RIG_SAVE_* bits, other bits must be 0.
 * Errors: KMT_ERR_INVALID_ARGUMENT (NULL rig or path, bad flags, float16
 * rounding too large), KMT_ERR_IO (the file cannot be written).
 */
kmt_status kmt_rig_save(const kmt_rig *rig, const char *path, uint32_t flags);

/** Releases a rig. Accepts NULL. */
void kmt_rig_free(kmt_rig *rig);

/*
 * The rig's properties. Each writes the value into its out-parameter (set to
 * 0 or NULL first) and returns KMT_OK; a NULL rig or out-parameter, or an
 * index not below kmt_rig_shape_count(), is KMT_ERR_INVALID_ARGUMENT (see
 * ERRORS). Strings are owned by the rig. Any thread may call them at any
 * time.
 */

/** *out_count: the number of vertices V of the neutral mesh. */
kmt_status kmt_rig_vertex_count(const kmt_rig *rig, size_t *out_count);

/** *out_count: the number of triangles F. */
kmt_status kmt_rig_face_count(const kmt_rig *rig, size_t *out_count);

/** *out_count: the number of blendshapes S. */
kmt_status kmt_rig_shape_count(const kmt_rig *rig, size_t *out_count);

/** *out_name: the name of blendshape `index` (below
    kmt_rig_shape_count()). */
kmt_status kmt_rig_shape_name(const kmt_rig *rig, size_t index,
                              const char **out_name);

/**
 * Copies the `__metadata__` value stored under `key` ("units" is "m", "cm"
 * or "mm"; "description", "license", "source" when the file has them) into
 * `buffer`, exactly as kmt_model_metadata() does.
 */
kmt_status kmt_rig_metadata(const kmt_rig *rig, const char *key, char *buffer,
                            size_t buffer_size, size_t *out_length);

/**
 * Copies the neutral vertex positions into `buffer`: V x 3 floats (x, y, z
 * per vertex, in the rig's units, +y up, the face looking towards +z).
 * `buffer_length` is the buffer's capacity in floats. *out_written (may be
 * NULL) receives the number of floats needed, which are written unless the
 * buffer is too small (KMT_ERR_BUFFER_TOO_SMALL).
 */
kmt_status kmt_rig_read_vertices(const kmt_rig *rig, float *buffer,
                                 size_t buffer_length, size_t *out_written);

/**
 * Copies the triangles into `buffer`: F x 3 vertex indices (0-based,
 * counter-clockwise seen from outside). Sizes as kmt_rig_read_vertices(),
 * in int32_t elements.
 */
kmt_status kmt_rig_read_faces(const kmt_rig *rig, int32_t *buffer,
                              size_t buffer_length, size_t *out_written);

/**
 * Copies blendshape `shape`'s deltas into `buffer`: V x 3 floats, the offset
 * of each vertex from the neutral mesh at weight 1 (in the rig's units), so
 * a posed mesh is vertices + sum over shapes of weight x deltas. Sizes as
 * kmt_rig_read_vertices(). KMT_ERR_INVALID_ARGUMENT: `shape` is not below
 * kmt_rig_shape_count() (or the rig is NULL).
 */
kmt_status kmt_rig_read_deltas(const kmt_rig *rig, size_t shape, float *buffer,
                               size_t buffer_length, size_t *out_written);

/**
 * Poses frames [first_frame, first_frame + frame_count) of `animation` and
 * writes frame_count x V x 3 floats into `buffer`, frame by frame, vertex by
 * vertex: positions (KMT_VERTICES_ABSOLUTE) or offsets from the neutral mesh
 * (KMT_VERTICES_OFFSETS).
 * - An animation of blendshape weights (models of space "arkit" or "rig")
 *   poses `rig`: its channels are matched to the rig's shapes by name (see
 *   above; shapes no channel drives keep weight 0); V is the rig's.
 * - An animation of a vertices-space model carries the model's template
 *   mesh (kmt_animation_vertex_count() gives V > 0) and poses without a rig: pass
 *   `rig` = NULL; positions are template + offsets, in the model's units
 *   (config.motion.units, "m" unless the model says otherwise).
 * `buffer_length` is the buffer's capacity in floats; *out_written (may be
 * NULL) receives the number of floats needed, which are written unless the
 * buffer is too small (KMT_ERR_BUFFER_TOO_SMALL).
 * KMT_ERR_INVALID_ARGUMENT: a range past the end, an unknown mode, a NULL
 * animation, a NULL rig for an animation of weights ("needs a rig"), or a
 * rig given for a vertices-space animation.
 */
kmt_status kmt_animation_vertices(const kmt_animation *animation,
                                  const kmt_rig *rig, size_t first_frame,
                                  size_t frame_count, kmt_vertex_mode mode,
                                  float *buffer, size_t buffer_length,
                                  size_t *out_written);

/**
 * *out_count: the number of vertices V of the template mesh an animation of a
 * vertices-space model carries (its channels are the 3V offsets "v0.x",
 * "v0.y", "v0.z", "v1.x", ...); 0 (with KMT_OK) for an animation of
 * blendshape weights. KMT_ERR_INVALID_ARGUMENT: a NULL animation or
 * out_count.
 */
kmt_status kmt_animation_vertex_count(const kmt_animation *animation,
                                      size_t *out_count);

/**
 * Copies the triangles of a vertices-space animation's template into
 * `buffer`: F x 3 vertex indices (0-based, counter-clockwise seen from
 * outside). F is 0 when the model has no faces (the template is a point
 * set). Sizes as kmt_rig_read_vertices(), in int32_t elements. An animation
 * of blendshape weights (or NULL) is KMT_ERR_INVALID_ARGUMENT.
 */
kmt_status kmt_animation_read_faces(const kmt_animation *animation,
                                    int32_t *buffer, size_t buffer_length,
                                    size_t *out_written);

/**
 * Lists the animation channels that drive no shape of `rig`: their indices
 * (for kmt_animation_channel_name()), ascending, into `buffer`.
 * *out_count (may be NULL) receives how many there are; they are written
 * unless `buffer_length` is smaller (KMT_ERR_BUFFER_TOO_SMALL), so a caller
 * can ask with (NULL, 0) first.
 */
kmt_status kmt_rig_unmatched_channels(const kmt_rig *rig,
                                      const kmt_animation *animation,
                                      size_t *buffer, size_t buffer_length,
                                      size_t *out_count);

/**
 * Lists the rig shapes that no channel of `animation` drives: their indices
 * (for kmt_rig_shape_name()), ascending. Sizes as
 * kmt_rig_unmatched_channels().
 */
kmt_status kmt_rig_unmatched_shapes(const kmt_rig *rig,
                                    const kmt_animation *animation,
                                    size_t *buffer, size_t buffer_length,
                                    size_t *out_count);

/**
 * Writes, for each of the rig's S shapes, the index of the animation channel
 * that drives it, or -1 when none does: the whole matching in one array (a
 * channel feeding split halves appears twice). Sizes as
 * kmt_rig_read_vertices(), in int32_t elements (S needed).
 */
kmt_status kmt_rig_shape_channels(const kmt_rig *rig,
                                  const kmt_animation *animation,
                                  int32_t *buffer, size_t buffer_length,
                                  size_t *out_written);

/**
 * kmt_rig_shape_channels() for any list of names instead of an animation's
 * channels: for each of the rig's S shapes, the index into `names` of the
 * name that drives it by the matching rules above, or -1. For hosts that
 * drive a rig with curves of their own (a capture, a hand-keyed track) or
 * check a model's channels (kmt_model_channel_name) against a rig before
 * animating. `names` holds `name_count` NUL-terminated UTF-8 strings, read
 * during the call only. Sizes as kmt_rig_read_vertices(), in int32_t
 * elements (S needed). KMT_ERR_INVALID_ARGUMENT: a NULL rig, a NULL `names`
 * with name_count > 0, a NULL or non-UTF-8 name, more names than int32_t
 * indices, a NULL buffer with buffer_length > 0.
 */
kmt_status kmt_rig_match_names(const kmt_rig *rig, const char *const *names,
                               size_t name_count, int32_t *buffer,
                               size_t buffer_length, size_t *out_written);

/* ------------------------------------------------------------------------ */
/* Export                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * An animation can be saved in the formats below. Weight formats (JSON, CSV,
 * Live Link Face CSV, NPY without a rig) and mouth cues for 2D characters
 * (Rhubarb Lip Sync's TSV and JSON) need only the animation; geometry
 * formats (GLB, OBJ, PLY, NPY with a rig) pose a rig, matching the
 * animation's channels to its shapes by name as kmt_animation_vertices()
 * does (shapes no channel drives keep weight 0).
 * An animation of a vertices-space model carries its own template mesh:
 * NPY, OBJ and PLY pose it with `rig` = NULL (a rig is refused), JSON and
 * CSV write its offsets as channels, GLB, Live Link Face CSV and the mouth
 * cues refuse it.
 */

/** File formats of kmt_animation_save(). Values are stable; new ones are
    appended. */
typedef enum kmt_export_format {
    /** By the path's extension (any case): .json, .csv (plain CSV), .npy,
        .glb, .obj, .ply, .tsv (mouth cues). Live Link Face CSV and mouth-cue
        JSON are only chosen explicitly. */
    KMT_EXPORT_AUTO = 0,
    /** JSON text: {"fps", "frame_count", "source" (the audio file; absent for
        PCM input), "model" (the model file), "channels": [names], "frames":
        [[weights of frame 0], ...]}; frame i is at i / fps seconds, weights
        with 6 decimals. The rig is ignored. */
    KMT_EXPORT_JSON = 1,
    /** CSV: a header "time,<channel>,..." and one row per frame, the time in
        seconds and the weights with 6 decimals. The rig is ignored. */
    KMT_EXPORT_CSV = 2,
    /** The iPhone Live Link Face app's CSV (Unreal's LiveLinkFace importer
        reads it): exactly the app's columns "Timecode,BlendshapeCount,
        EyeBlinkLeft,...,TongueOut,HeadYaw,...,RightEyeRoll" (52 blendshapes,
        JawRight before JawLeft and MouthRight before MouthLeft as the app
        writes them, then 9 head and eye rotations), Timecode hh:mm:ss:ff.fff
        counting 60ths of a second at every rate (as the app and Unreal's
        importer do) from 00:00:00:00.000, BlendshapeCount 61, every value
        with 10 decimals as the app writes them ("0.0182390027"). Channels
        fill the columns by name (ARKit names in any of the styles the rig
        matcher accepts); other columns, the rotations among them, are 0.
        The frame rate must be a whole number; the app records 30 or 60 fps
        (other whole rates are written, with a KMT_LOG_WARNING message); the
        rig is ignored. */
    KMT_EXPORT_LIVE_LINK_CSV = 3,
    /** NumPy .npy (format 1.0, little-endian float32 '<f4', C order): without
        a rig the weights, shape (frames, channels); with a rig the posed
        vertex positions, shape (frames, V, 3), in the rig's units. For a
        vertices-space animation (no rig) the positions template + offsets,
        shape (frames, V, 3), in the model's units. */
    KMT_EXPORT_NPY = 4,
    /** glTF 2.0 binary (needs a rig): the rig's neutral mesh (POSITION,
        NORMAL, TEXCOORD_0 when the rig has texture coordinates, indices), one
        morph target per rig shape named in mesh.extras.targetNames, and one
        animation "speech" driving the morph weights (LINEAR, keyframes at
        i / fps seconds). Lengths are converted to metres. Vertices-space
        animations are refused (use OBJ, PLY or NPY). */
    KMT_EXPORT_GLB = 5,
    /** One Wavefront OBJ per frame (needs a rig, or a vertices-space
        animation): the posed vertices in the rig's (model's) units, texture
        coordinates when the rig has them, the triangles (a vertices-space
        model without faces gives vertices only). `path` names the sequence:
        "dir/face.obj" writes dir/face_000001.obj, dir/face_000002.obj, ...
        (at least 6 digits). */
    KMT_EXPORT_OBJ = 6,
    /** One binary little-endian PLY per frame (needs a rig, or a
        vertices-space animation), named as for KMT_EXPORT_OBJ: float x y z
        (and s t texture coordinates when the rig has them) per vertex, the
        triangles (no face element for a vertices-space model without
        faces). */
    KMT_EXPORT_PLY = 7,
    /** Mouth cues for 2D characters as Rhubarb Lip Sync writes them in TSV:
        one line "<start seconds>\t<shape>" per cue (two decimals), then a
        last line with the end of the animation and X. Shapes are Rhubarb's
        letters: A closed (P B M), B slightly open with clenched teeth (most
        consonants, EE), C open (EH AE), D wide open (AA), E slightly rounded
        (AO ER), F puckered (UW OW W), G upper teeth on the lower lip (F V), H
        tongue raised (L), X at rest. They are read from the ARKit mouth
        weights frame by frame (docs/export.md gives the rules), runs shorter
        than 40 ms are merged into a neighbour except closures (A), times are
        frame boundaries rounded to 0.01 s. Needs the channel jawOpen; the rig
        is ignored. G, H and X are Rhubarb's extended shapes: with
        kmt_export_params.mouth_cue_extended_shapes a host drawing fewer gets
        them mapped down as Rhubarb does (G to B, H to C, X to A, the closing
        line included). */
    KMT_EXPORT_MOUTH_CUES_TSV = 8,
    /** The same mouth cues as Rhubarb Lip Sync's JSON: {"metadata":
        {"soundFile": the audio file ("" for PCM input), "duration": seconds},
        "mouthCues": [{"start": s, "end": s, "value": "A"}, ...]}. Only
        chosen explicitly (a .json path means KMT_EXPORT_JSON). */
    KMT_EXPORT_MOUTH_CUES_JSON = 9,
    /** KMT_EXPORT_GLB with sparse morph targets: each target lists only the
        vertices its shape moves (glTF 2.0 sparse accessors; smaller when
        shapes move few vertices, as a face's do). Blender, three.js and Babylon.js read them;
        prefer the dense KMT_EXPORT_GLB for importers without sparse support.
        Only chosen explicitly (a .glb path means KMT_EXPORT_GLB). */
    KMT_EXPORT_GLB_SPARSE = 10,
    /** The phones the model recognized (key-motion models with a phone head;
        other animations are refused): UTF-8 tab-separated text, a header
        "start\tend\tphone\tconfidence", then one line per segment of
        frames with the same most likely phone: start and end in seconds (3
        decimals), the phone (the model's inventory, IPA symbols, "_" for a
        pause), its mean posterior (3 decimals). Segments are contiguous from
        0. Only chosen explicitly (a .tsv path means the mouth cues). */
    KMT_EXPORT_PHONES_TSV = 11,
    /** The mouth cues as Rhubarb Lip Sync's XML: <rhubarbResult> with
        <metadata> (soundFile: the audio's absolute path, "" for PCM input;
        duration) and <mouthCues> of <mouthCue start= end=>SHAPE</mouthCue>.
        Only chosen explicitly. */
    KMT_EXPORT_MOUTH_CUES_XML = 12,
    /** The mouth cues as a Moho switch-layer data file (Rhubarb's DAT, read by
        Moho/Anime Studio and OpenToonz): "MohoSwitch1", then "<frame> <shape>"
        per cue, frames numbered from 1 at 24 fps, and a last X at the end.
        Only chosen explicitly. */
    KMT_EXPORT_MOUTH_CUES_DAT = 13
} kmt_export_format;

/**
 * Saves `animation` to `path` in `format`. `rig` may be NULL for the weight
 * and mouth-cue formats (JSON, CSV, Live Link CSV, NPY of weights, mouth
 * cues); GLB, OBJ and PLY need one, except for vertices-space animations,
 * which take none (their GLB holds the motion as at most 64 morph targets,
 * docs/export.md). The write is atomic and durable: the data goes to a
 * temporary file beside the target, flushed to disk and renamed into place
 * only when complete, so a failed call leaves no partial file and existing
 * files untouched. OBJ and PLY sequences replace an earlier sequence of the
 * same name as a whole, its extra frames included; a process killed while
 * replacing one leaves the old or the new sequence once the next save into
 * that folder has run (docs/export.md). Files are created with the usual permissions
 * (0666 less the umask); an existing file is replaced.
 * Errors: KMT_ERR_INVALID_ARGUMENT (NULL animation or path, an unknown
 * format, an extension KMT_EXPORT_AUTO does not know, a geometry format
 * without a rig: "GLB export needs a rig", a rig with a vertices-space
 * animation, Live Link CSV of a vertices-space animation, GLB of one whose
 * template has no faces, a Live
 * Link CSV at a fractional frame rate, GLB/OBJ/PLY of an animation without
 * frames, a GLB over 4 GiB, mouth cues of an animation without a jawOpen
 * channel, phones of an animation without a phone track),
 * KMT_ERR_IO (the directory does not exist or is not writable, a directory
 * in the way, a full disk; kmt_last_error() names the path).
 * Thread safety: reads the animation and the rig only; any thread may save
 * any animation at any time. Two calls writing the same path at once each
 * produce a complete file, the later rename wins.
 */
kmt_status kmt_animation_save(const kmt_animation *animation,
                              const kmt_rig *rig, const char *path,
                              kmt_export_format format);

/**
 * Encodes `animation` in a single-file `format` (JSON, CSV, Live Link CSV,
 * NPY, GLB, mouth cues or phones; not AUTO, OBJ or PLY) into the caller's `buffer` of
 * `buffer_size` bytes, exactly the bytes kmt_animation_save() would write.
 * `rig` as for kmt_animation_save(). *out_size (may be NULL) receives the
 * number of bytes needed, which are written unless the buffer is too small
 * (KMT_ERR_BUFFER_TOO_SMALL), so a caller can ask with (NULL, 0) first; each
 * call encodes anew. Errors as kmt_animation_save(), without KMT_ERR_IO.
 * Thread safety as kmt_animation_save(); the buffer is caller-owned.
 */
kmt_status kmt_animation_save_to_memory(const kmt_animation *animation,
                                        const kmt_rig *rig,
                                        kmt_export_format format, void *buffer,
                                        size_t buffer_size, size_t *out_size);

/**
 * Options for kmt_animation_save_with_params and
 * kmt_animation_save_to_memory_with_params. Initialise with
 * kmt_export_params_init(&p, sizeof p), then change fields (struct rules as
 * for kmt_model_params). Read during the call only.
 */
typedef struct kmt_export_params {
    /** sizeof(kmt_export_params) as the caller was compiled. */
    size_t struct_size;
    /** Progress of the export (stage "export": per batch of frames posed and
        written for OBJ, PLY and NPY of vertices; while encoding for JSON, CSV,
        Live Link CSV (every 64 rows) and GLB (per morph target, per block of
        weights); before and after encoding for the other formats) and its
        cancellation: see kmt_progress_callback.
        A cancelled save leaves no file and existing files untouched. NULL:
        none. */
    kmt_progress_callback progress;
    /** Passed to `progress` as given. */
    void *progress_user_data;
    /** The mouth-cue formats (TSV, JSON, XML, DAT): which of Rhubarb Lip
        Sync's extended shapes to use, as Rhubarb's --extendedShapes takes them:
        a string of the letters G, H and X (any order and case). NULL: all
        three ("GHX", the default); "": the six basic shapes A-F only. A shape
        left out is drawn as Rhubarb draws it: G (F, V) as B, H (L) as C, X
        (rest) as A; neighbouring cues that become the same shape are joined
        into one. Other formats ignore it. Another letter is
        KMT_ERR_INVALID_ARGUMENT. */
    const char *mouth_cue_extended_shapes;
} kmt_export_params;

/**
 * Fills `*params` with the default export options (no progress, all extended
 * mouth shapes: kmt_animation_save's behaviour):
 *
 *     kmt_export_params p;
 *     kmt_export_params_init(&p, sizeof p);
 *     p.mouth_cue_extended_shapes = "";
 *
 * Writes exactly `struct_size` bytes (sizeof(*params) as the caller was
 * compiled): the defaults of the fields the library knows, zeros beyond them,
 * and `struct_size` into params->struct_size. Errors, ownership and thread
 * safety as kmt_model_params_init (any thread; the caller owns `params`),.
 */
kmt_status kmt_export_params_init(kmt_export_params *params, size_t struct_size);


/**
 * kmt_animation_save with options. `params` may be NULL for defaults (then
 * exactly kmt_animation_save). Errors as kmt_animation_save, plus
 * KMT_ERR_INVALID_ARGUMENT for bad params and KMT_ERR_CANCELLED when the
 * progress callback stops the export: no file is written, temporary files are
 * removed and an existing file or sequence of that name is left as it was.
 * Thread safety as kmt_animation_save; the progress callback runs on the
 * calling thread.
 */
kmt_status kmt_animation_save_with_params(const kmt_animation *animation,
                                          const kmt_rig *rig, const char *path,
                                          kmt_export_format format,
                                          const kmt_export_params *params);

/**
 * kmt_animation_save_to_memory with options (`params` may be NULL for
 * defaults). Each call encodes and reports anew; a size query (a buffer too
 * small) does not report the end (1.0). A cancelled call returns
 * KMT_ERR_CANCELLED and writes nothing into `buffer`; *out_size is then 0.
 */
kmt_status kmt_animation_save_to_memory_with_params(
    const kmt_animation *animation, const kmt_rig *rig, kmt_export_format format,
    const kmt_export_params *params, void *buffer, size_t buffer_size,
    size_t *out_size);

/**
 * Writes `animation` into the user's own character: reads the binary glTF
 * (.glb) at `asset_path` and saves it to `path` (a .glb) with one animation
 * added, named "speech" ("speech 2", ... when the asset has one). It comes
 * first in the file's animations, since importers and viewers activate or
 * play the first (Blender, model-viewer, Babylon.js); the asset's own
 * animations follow in their order. Every mesh, material, texture, skin,
 * node, camera and extension of the asset is kept unchanged. The new animation drives the
 * morph target weights of each node whose mesh has targets named like the
 * animation's channels (target names from mesh.extras.targetNames, as
 * Blender and three.js write them; matched as kmt_rig_match_names matches:
 * exact, first-letter case, normalised, split halves); targets no channel
 * drives hold the node's rest weights. Geometry is not decoded, so assets
 * compressed with Draco or meshopt work. `path` may equal `asset_path`. The
 * write is atomic and durable as for kmt_animation_save.
 * Errors: KMT_ERR_INVALID_ARGUMENT (NULL argument, an animation without
 * frames, a vertices-space animation, no target of the asset matching a
 * channel: the message lists the asset's target names; apply a channel map
 * with kmt_animation_remap first), KMT_ERR_UNSUPPORTED_FORMAT (not a GLB,
 * or glTF other than 2.x; export the character as GLB), KMT_ERR_CORRUPT_RIG
 * (a truncated or inconsistent GLB), KMT_ERR_IO (the asset cannot be read
 * or `path` written).
 * Thread safety as kmt_animation_save.
 */
kmt_status kmt_animation_save_into_glb(const kmt_animation *animation,
                                       const char *asset_path,
                                       const char *path);

#ifdef __cplusplus
}
#endif

#endif /* KMTALK_H */
