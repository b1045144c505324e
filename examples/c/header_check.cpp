// header_check.cpp -- compile-only check of include/kmtalk.h as C++17.
//
//     c++ -std=c++17 -pedantic -Wall -Wextra -Werror -fsyntax-only -I../../include header_check.cpp
//
// Every function is checked against its exact documented type, and every
// type, enumerator and macro is used, so a missing or changed declaration
// fails to compile. Nothing here is linked or run. The deprecation attributes
// stay on (header_check.c turns them off with KMT_NO_DEPRECATION_WARNINGS).
#include "kmtalk.h"

#include <cstddef>
#include <cstdint>
#include <type_traits>

// Versions.
static_assert(KMT_VERSION_MAJOR == 1 && KMT_VERSION_MINOR == 0 && KMT_VERSION_PATCH == 0, "version");
static_assert(KMT_VERSION_NUMBER == 10000, "KMT_VERSION_NUMBER");
static_assert(sizeof(KMT_VERSION_STRING) == sizeof("1.0.0"), "KMT_VERSION_STRING");
static_assert(KMT_LATENCY_EXACT == -1, "KMT_LATENCY_EXACT");

// Status codes and enums are stable values.
static_assert(KMT_OK == 0 && KMT_ERR_INVALID_ARGUMENT == 1 && KMT_ERR_IO == 2 &&
                  KMT_ERR_UNSUPPORTED_FORMAT == 3 && KMT_ERR_INVALID_AUDIO == 4 &&
                  KMT_ERR_CORRUPT_MODEL == 5 && KMT_ERR_INCOMPATIBLE_MODEL == 6 &&
                  KMT_ERR_OUT_OF_MEMORY == 7 && KMT_ERR_BUFFER_TOO_SMALL == 8 &&
                  KMT_ERR_INTERNAL == 9 && KMT_ERR_CORRUPT_RIG == 10 && KMT_ERR_CANCELLED == 11,
              "kmt_status values");
static_assert(KMT_LOG_DEBUG == 0 && KMT_LOG_INFO == 1 && KMT_LOG_WARNING == 2 && KMT_LOG_ERROR == 3,
              "kmt_log_level values");
static_assert(KMT_NONFINITE_REJECT == 0 && KMT_NONFINITE_ZERO == 1, "kmt_nonfinite_policy values");
static_assert(KMT_VERTICES_ABSOLUTE == 0 && KMT_VERTICES_OFFSETS == 1, "kmt_vertex_mode values");
static_assert(KMT_EXPORT_AUTO == 0 && KMT_EXPORT_JSON == 1 && KMT_EXPORT_CSV == 2 &&
                  KMT_EXPORT_LIVE_LINK_CSV == 3 && KMT_EXPORT_NPY == 4 && KMT_EXPORT_GLB == 5 &&
                  KMT_EXPORT_OBJ == 6 && KMT_EXPORT_PLY == 7 && KMT_EXPORT_MOUTH_CUES_TSV == 8 &&
                  KMT_EXPORT_MOUTH_CUES_JSON == 9 && KMT_EXPORT_GLB_SPARSE == 10 && KMT_EXPORT_PHONES_TSV == 11,
              "kmt_export_format values");

// Parameter structs: C-compatible, struct_size first, documented field types.
static_assert(std::is_standard_layout<kmt_model_params>::value, "kmt_model_params layout");
static_assert(std::is_trivially_copyable<kmt_model_params>::value, "kmt_model_params copyable");
static_assert(offsetof(kmt_model_params, struct_size) == 0, "struct_size first");
static_assert(std::is_same<decltype(kmt_model_params::struct_size), size_t>::value, "struct_size");
static_assert(std::is_same<decltype(kmt_model_params::flags), uint32_t>::value, "flags");
static_assert(std::is_standard_layout<kmt_session_params>::value, "kmt_session_params layout");
static_assert(std::is_trivially_copyable<kmt_session_params>::value, "kmt_session_params copyable");
static_assert(offsetof(kmt_session_params, struct_size) == 0, "struct_size first");
static_assert(std::is_same<decltype(kmt_session_params::struct_size), size_t>::value, "struct_size");
static_assert(std::is_same<decltype(kmt_session_params::n_threads), int32_t>::value, "n_threads");
static_assert(std::is_same<decltype(kmt_session_params::output_fps), double>::value, "output_fps");
static_assert(std::is_same<decltype(kmt_session_params::latency_ms), double>::value, "latency_ms");
static_assert(std::is_same<decltype(kmt_stage_time::seconds), double>::value, "kmt_stage_time");
static_assert(std::is_same<decltype(kmt_session_params::nonfinite_policy), kmt_nonfinite_policy>::value,
              "nonfinite_policy");

static_assert(std::is_same<decltype(kmt_session_params::progress), kmt_progress_callback>::value, "progress");
static_assert(std::is_same<decltype(kmt_session_params::progress_user_data), void *>::value, "progress_user_data");
static_assert(offsetof(kmt_session_params, progress) == 32, "progress after the scalar fields");
static_assert(std::is_standard_layout<kmt_export_params>::value, "kmt_export_params layout");
static_assert(offsetof(kmt_export_params, struct_size) == 0, "struct_size first");
static_assert(std::is_same<decltype(kmt_export_params::mouth_cue_extended_shapes), const char *>::value,
              "mouth_cue_extended_shapes");
static_assert(std::is_same<decltype(kmt_rig_import_params::progress), kmt_progress_callback>::value, "progress");

// The callback types.
static_assert(std::is_same<kmt_log_callback, void (*)(kmt_log_level, const char *, void *)>::value,
              "kmt_log_callback");
static_assert(std::is_same<kmt_progress_callback, int (*)(float, const char *, void *)>::value,
              "kmt_progress_callback");

// Every function, with its exact type.
#define CHECK_FN(name, type) static_assert(std::is_same<decltype(&name), type>::value, #name)

CHECK_FN(kmt_version, const char *(*)(void));
CHECK_FN(kmt_version_number, int32_t (*)(void));
CHECK_FN(kmt_status_string, const char *(*)(kmt_status));
CHECK_FN(kmt_last_error, const char *(*)(void));
CHECK_FN(kmt_log_set, void (*)(kmt_log_callback, kmt_log_level, void *));
CHECK_FN(kmt_model_params_init, kmt_status (*)(kmt_model_params *, size_t));
CHECK_FN(kmt_session_params_init, kmt_status (*)(kmt_session_params *, size_t));
CHECK_FN(kmt_rig_import_params_init, kmt_status (*)(kmt_rig_import_params *, size_t));
CHECK_FN(kmt_export_params_init, kmt_status (*)(kmt_export_params *, size_t));
CHECK_FN(kmt_model_load_file, kmt_status (*)(const char *, const kmt_model_params *, kmt_model **));
CHECK_FN(kmt_model_load_memory,
         kmt_status (*)(const void *, size_t, const kmt_model_params *, kmt_model **));
CHECK_FN(kmt_model_free, void (*)(kmt_model *));
CHECK_FN(kmt_model_architecture, kmt_status (*)(const kmt_model *, const char **));
CHECK_FN(kmt_model_motion_space, kmt_status (*)(const kmt_model *, const char **));
CHECK_FN(kmt_model_sample_rate, kmt_status (*)(const kmt_model *, int32_t *));
CHECK_FN(kmt_model_fps, kmt_status (*)(const kmt_model *, double *));
CHECK_FN(kmt_model_channel_count, kmt_status (*)(const kmt_model *, size_t *));
CHECK_FN(kmt_model_channel_name, kmt_status (*)(const kmt_model *, size_t, const char **));
CHECK_FN(kmt_model_parameter_count, kmt_status (*)(const kmt_model *, uint64_t *));
CHECK_FN(kmt_model_metadata, kmt_status (*)(const kmt_model *, const char *, char *, size_t, size_t *));
CHECK_FN(kmt_model_log_mel,
         kmt_status (*)(const kmt_model *, const float *, size_t, float *, size_t, size_t *, size_t *));
CHECK_FN(kmt_animation_remap, kmt_status (*)(const kmt_animation *, const char *, kmt_animation **));
CHECK_FN(kmt_animation_save_into_glb, kmt_status (*)(const kmt_animation *, const char *, const char *));
CHECK_FN(kmt_session_stage_times, kmt_status (*)(const kmt_session *, kmt_stage_time *, size_t, size_t *));
CHECK_FN(kmt_rig_match_names,
         kmt_status (*)(const kmt_rig *, const char *const *, size_t, int32_t *, size_t, size_t *));
CHECK_FN(kmt_session_create,
         kmt_status (*)(const kmt_model *, const kmt_session_params *, kmt_session **));
CHECK_FN(kmt_session_free, void (*)(kmt_session *));
CHECK_FN(kmt_session_latency_ms, kmt_status (*)(const kmt_session *, double *));
CHECK_FN(kmt_session_exact_latency_ms, kmt_status (*)(const kmt_session *, double *));
CHECK_FN(kmt_session_output_fps, kmt_status (*)(const kmt_session *, double *));
CHECK_FN(kmt_animate_file, kmt_status (*)(kmt_session *, const char *, kmt_animation **));
CHECK_FN(kmt_animate_pcm,
         kmt_status (*)(kmt_session *, const float *, size_t, int32_t, int32_t, kmt_animation **));
CHECK_FN(kmt_animation_free, void (*)(kmt_animation *));
CHECK_FN(kmt_animation_frame_count, kmt_status (*)(const kmt_animation *, size_t *));
CHECK_FN(kmt_animation_channel_count, kmt_status (*)(const kmt_animation *, size_t *));
CHECK_FN(kmt_animation_fps, kmt_status (*)(const kmt_animation *, double *));
CHECK_FN(kmt_animation_channel_name, kmt_status (*)(const kmt_animation *, size_t, const char **));
CHECK_FN(kmt_animation_read_frames,
         kmt_status (*)(const kmt_animation *, size_t, size_t, float *, size_t, size_t *));
CHECK_FN(kmt_audio_params_init, kmt_status (*)(kmt_audio_params *, size_t));
CHECK_FN(kmt_audio_load_file, kmt_status (*)(const char *, const kmt_audio_params *, kmt_audio **));
CHECK_FN(kmt_audio_load_memory, kmt_status (*)(const void *, size_t, const kmt_audio_params *, kmt_audio **));
CHECK_FN(kmt_audio_free, void (*)(kmt_audio *));
CHECK_FN(kmt_audio_sample_rate, kmt_status (*)(const kmt_audio *, int32_t *));
CHECK_FN(kmt_audio_sample_count, kmt_status (*)(const kmt_audio *, size_t *));
CHECK_FN(kmt_audio_samples, kmt_status (*)(const kmt_audio *, const float **));
CHECK_FN(kmt_audio_source_rate, kmt_status (*)(const kmt_audio *, int32_t *));
CHECK_FN(kmt_audio_source_channels, kmt_status (*)(const kmt_audio *, int32_t *));
CHECK_FN(kmt_audio_format_name, kmt_status (*)(const kmt_audio *, const char **));
CHECK_FN(kmt_rig_load_file, kmt_status (*)(const char *, kmt_rig **));
CHECK_FN(kmt_rig_load_memory, kmt_status (*)(const void *, size_t, kmt_rig **));
CHECK_FN(kmt_rig_free, void (*)(kmt_rig *));
CHECK_FN(kmt_rig_vertex_count, kmt_status (*)(const kmt_rig *, size_t *));
CHECK_FN(kmt_rig_face_count, kmt_status (*)(const kmt_rig *, size_t *));
CHECK_FN(kmt_rig_shape_count, kmt_status (*)(const kmt_rig *, size_t *));
CHECK_FN(kmt_rig_shape_name, kmt_status (*)(const kmt_rig *, size_t, const char **));
CHECK_FN(kmt_rig_metadata, kmt_status (*)(const kmt_rig *, const char *, char *, size_t, size_t *));
CHECK_FN(kmt_rig_read_vertices, kmt_status (*)(const kmt_rig *, float *, size_t, size_t *));
CHECK_FN(kmt_rig_read_faces, kmt_status (*)(const kmt_rig *, int32_t *, size_t, size_t *));
CHECK_FN(kmt_animation_vertices, kmt_status (*)(const kmt_animation *, const kmt_rig *, size_t, size_t,
                                                kmt_vertex_mode, float *, size_t, size_t *));
CHECK_FN(kmt_animation_vertex_count, kmt_status (*)(const kmt_animation *, size_t *));
CHECK_FN(kmt_animation_read_faces, kmt_status (*)(const kmt_animation *, int32_t *, size_t, size_t *));
CHECK_FN(kmt_rig_unmatched_channels,
         kmt_status (*)(const kmt_rig *, const kmt_animation *, size_t *, size_t, size_t *));
CHECK_FN(kmt_rig_unmatched_shapes,
         kmt_status (*)(const kmt_rig *, const kmt_animation *, size_t *, size_t, size_t *));
CHECK_FN(kmt_rig_shape_channels,
         kmt_status (*)(const kmt_rig *, const kmt_animation *, int32_t *, size_t, size_t *));
CHECK_FN(kmt_animation_save,
         kmt_status (*)(const kmt_animation *, const kmt_rig *, const char *, kmt_export_format));
CHECK_FN(kmt_animation_save_to_memory, kmt_status (*)(const kmt_animation *, const kmt_rig *,
                                                      kmt_export_format, void *, size_t, size_t *));
CHECK_FN(kmt_animation_save_with_params, kmt_status (*)(const kmt_animation *, const kmt_rig *, const char *,
                                                        kmt_export_format, const kmt_export_params *));
CHECK_FN(kmt_animation_save_to_memory_with_params,
         kmt_status (*)(const kmt_animation *, const kmt_rig *, kmt_export_format, const kmt_export_params *,
                        void *, size_t, size_t *));

// The deprecation macro expands to a valid attribute in C++ too.
KMT_DEPRECATED(kmt_version) const char *header_check_old_version();

// Opaque handles are incomplete types usable through pointers, and the usual
// RAII wrapping compiles.
namespace {
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

[[maybe_unused]] int use_everything() {
    kmt_model *model = nullptr;
    kmt_session *session = nullptr;
    kmt_animation *animation = nullptr;
    kmt_rig *rig = nullptr;
    kmt_model_params model_params;
    kmt_session_params session_params;
    kmt_status status = kmt_model_params_init(&model_params, sizeof model_params);
    if (status == KMT_OK) {
        status = kmt_session_params_init(&session_params, sizeof session_params);
    }
    session_params.nonfinite_policy = KMT_NONFINITE_ZERO;
    kmt_log_set(nullptr, KMT_LOG_ERROR, nullptr);
    if (status == KMT_OK) {
        status = kmt_model_load_file("model.safetensors", &model_params, &model);
    }
    if (status == KMT_OK) {
        status = kmt_session_create(model, &session_params, &session);
    }
    ModelDeleter{}(model);
    SessionDeleter{}(session);
    AnimationDeleter{}(animation);
    if (status == KMT_OK) {
        status = kmt_rig_load_file("head.rig.safetensors", &rig);
    }
    if (status == KMT_OK) {
        size_t needed = 0;
        status = kmt_animation_vertices(animation, rig, 0, 1, KMT_VERTICES_OFFSETS, nullptr, 0, &needed);
    }
    if (status == KMT_OK) {
        status = kmt_animation_save(animation, rig, "speech.glb", KMT_EXPORT_AUTO);
    }
    if (status == KMT_OK) {
        size_t size = 0;
        status = kmt_animation_save_to_memory(animation, nullptr, KMT_EXPORT_JSON, nullptr, 0, &size);
    }
    RigDeleter{}(rig);
    return static_cast<int>(status);
}
}  // namespace
