/*
 * header_check.c -- compile-only check of include/kmtalk.h as C99.
 *
 *     cc -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I../../include header_check.c
 *
 * Every function is assigned to a pointer of its exact documented type, and
 * every type, enumerator and macro is used, so a missing or changed
 * declaration fails to compile. Nothing here is linked or run. The
 * deprecation macro is checked with its warnings off (header_check.cpp
 * compiles with them on).
 */
#define KMT_NO_DEPRECATION_WARNINGS
#include "kmtalk.h"

#include <stddef.h>

/* C99 has no _Static_assert: a negative array size fails instead. */
#define CHECK(name, condition) typedef char check_##name[(condition) ? 1 : -1]

/* Versions. */
CHECK(version_major, KMT_VERSION_MAJOR == 1);
CHECK(version_minor, KMT_VERSION_MINOR == 0);
CHECK(version_patch, KMT_VERSION_PATCH == 0);
CHECK(version_number, KMT_VERSION_NUMBER == 10000);
CHECK(version_string, sizeof(KMT_VERSION_STRING) == sizeof("1.0.0"));
CHECK(latency_exact, KMT_LATENCY_EXACT == -1);

/* Status codes are stable values. */
CHECK(status_ok, KMT_OK == 0);
CHECK(status_invalid_argument, KMT_ERR_INVALID_ARGUMENT == 1);
CHECK(status_io, KMT_ERR_IO == 2);
CHECK(status_unsupported_format, KMT_ERR_UNSUPPORTED_FORMAT == 3);
CHECK(status_invalid_audio, KMT_ERR_INVALID_AUDIO == 4);
CHECK(status_corrupt_model, KMT_ERR_CORRUPT_MODEL == 5);
CHECK(status_incompatible_model, KMT_ERR_INCOMPATIBLE_MODEL == 6);
CHECK(status_out_of_memory, KMT_ERR_OUT_OF_MEMORY == 7);
CHECK(status_buffer_too_small, KMT_ERR_BUFFER_TOO_SMALL == 8);
CHECK(status_internal, KMT_ERR_INTERNAL == 9);
CHECK(status_corrupt_rig, KMT_ERR_CORRUPT_RIG == 10);
CHECK(status_cancelled, KMT_ERR_CANCELLED == 11);
CHECK(vertex_modes, KMT_VERTICES_ABSOLUTE == 0 && KMT_VERTICES_OFFSETS == 1);
CHECK(log_levels, KMT_LOG_DEBUG == 0 && KMT_LOG_INFO == 1 && KMT_LOG_WARNING == 2 && KMT_LOG_ERROR == 3);
CHECK(nonfinite, KMT_NONFINITE_REJECT == 0 && KMT_NONFINITE_ZERO == 1);

/* Parameter structs start with struct_size and have the documented fields. */
CHECK(model_params_size_first, offsetof(kmt_model_params, struct_size) == 0);
CHECK(model_params_flags, sizeof(((kmt_model_params *)0)->flags) == sizeof(uint32_t));
/* No tail padding: a later 4-byte field must change sizeof (see kmt_model_params). */
CHECK(model_params_no_tail_padding, sizeof(kmt_model_params) == sizeof(size_t) + 2 * sizeof(uint32_t));
CHECK(session_params_no_tail_padding,
      sizeof(kmt_session_params) == sizeof(size_t) + 2 * 4 + 2 * sizeof(double) + sizeof(kmt_progress_callback) + sizeof(void *));
/* The pointers come after the scalar fields (32 bytes on LP64). */
CHECK(session_params_progress_after_scalars, offsetof(kmt_session_params, progress) == sizeof(size_t) + 2 * 4 + 2 * sizeof(double));
CHECK(rig_import_params_progress_appended, offsetof(kmt_rig_import_params, progress) == sizeof(size_t) + 3 * sizeof(char *) + 8);
CHECK(export_params_size_first, offsetof(kmt_export_params, struct_size) == 0);
CHECK(session_params_size_first, offsetof(kmt_session_params, struct_size) == 0);
CHECK(session_params_struct_size, sizeof(((kmt_session_params *)0)->struct_size) == sizeof(size_t));
CHECK(session_params_threads, sizeof(((kmt_session_params *)0)->n_threads) == sizeof(int32_t));
CHECK(session_params_fps, sizeof(((kmt_session_params *)0)->output_fps) == sizeof(double));
CHECK(session_params_latency, sizeof(((kmt_session_params *)0)->latency_ms) == sizeof(double));
CHECK(session_params_policy, sizeof(((kmt_session_params *)0)->nonfinite_policy) == sizeof(kmt_nonfinite_policy));

/* The deprecation macro still expands to something valid (nothing, here). */
KMT_DEPRECATED(kmt_version) const char *header_check_old_version(void);

/* The log callback type. */
static void on_log(kmt_log_level level, const char *message, void *user_data) {
    (void)level;
    (void)message;
    (void)user_data;
}

/* The progress callback type. */
static int on_progress(float fraction, const char *stage, void *user_data) {
    (void)stage;
    (void)user_data;
    return fraction > 2.0f;
}

int header_check(void);
int header_check(void) {
    /* Versions */
    const char *(*p_version)(void) = kmt_version;
    int32_t (*p_version_number)(void) = kmt_version_number;

    /* Status codes and errors */
    const char *(*p_status_string)(kmt_status) = kmt_status_string;
    const char *(*p_last_error)(void) = kmt_last_error;
    kmt_log_callback callback = on_log;
    void (*p_log_set)(kmt_log_callback, kmt_log_level, void *) = kmt_log_set;

    /* Models */
    kmt_status (*p_model_params_init)(kmt_model_params *, size_t) = kmt_model_params_init;
    kmt_status (*p_model_load_file)(const char *, const kmt_model_params *, kmt_model **) =
        kmt_model_load_file;
    kmt_status (*p_model_load_memory)(const void *, size_t, const kmt_model_params *, kmt_model **) =
        kmt_model_load_memory;
    void (*p_model_free)(kmt_model *) = kmt_model_free;
    kmt_status (*p_model_architecture)(const kmt_model *, const char **) = kmt_model_architecture;
    kmt_status (*p_model_motion_space)(const kmt_model *, const char **) = kmt_model_motion_space;
    kmt_status (*p_model_sample_rate)(const kmt_model *, int32_t *) = kmt_model_sample_rate;
    kmt_status (*p_model_fps)(const kmt_model *, double *) = kmt_model_fps;
    kmt_status (*p_model_channel_count)(const kmt_model *, size_t *) = kmt_model_channel_count;
    kmt_status (*p_model_channel_name)(const kmt_model *, size_t, const char **) = kmt_model_channel_name;
    kmt_status (*p_model_parameter_count)(const kmt_model *, uint64_t *) = kmt_model_parameter_count;
    kmt_status (*p_model_metadata)(const kmt_model *, const char *, char *, size_t, size_t *) =
        kmt_model_metadata;
    kmt_status (*p_model_log_mel)(const kmt_model *, const float *, size_t, float *, size_t, size_t *, size_t *) =
        kmt_model_log_mel;
    kmt_status (*p_session_stage_times)(const kmt_session *, kmt_stage_time *, size_t, size_t *) =
        kmt_session_stage_times;
    kmt_status (*p_rig_match_names)(const kmt_rig *, const char *const *, size_t, int32_t *, size_t, size_t *) =
        kmt_rig_match_names;
    kmt_status (*p_animation_remap)(const kmt_animation *, const char *, kmt_animation **) = kmt_animation_remap;
    kmt_status (*p_animation_save_into_glb)(const kmt_animation *, const char *, const char *) = kmt_animation_save_into_glb;
    kmt_stage_time stage_time = {"features", 0.5};

    /* Sessions */
    kmt_status (*p_session_params_init)(kmt_session_params *, size_t) = kmt_session_params_init;
    kmt_status (*p_session_create)(const kmt_model *, const kmt_session_params *, kmt_session **) =
        kmt_session_create;
    void (*p_session_free)(kmt_session *) = kmt_session_free;
    kmt_status (*p_session_latency_ms)(const kmt_session *, double *) = kmt_session_latency_ms;
    kmt_status (*p_session_exact_latency_ms)(const kmt_session *, double *) = kmt_session_exact_latency_ms;
    kmt_status (*p_session_output_fps)(const kmt_session *, double *) = kmt_session_output_fps;

    /* Offline animation */
    kmt_status (*p_animate_file)(kmt_session *, const char *, kmt_animation **) = kmt_animate_file;
    kmt_status (*p_animate_pcm)(kmt_session *, const float *, size_t, int32_t, int32_t,
                                kmt_animation **) = kmt_animate_pcm;

    /* Audio decoding */
    kmt_status (*p_audio_params_init)(kmt_audio_params *, size_t) = kmt_audio_params_init;
    kmt_status (*p_audio_load_file)(const char *, const kmt_audio_params *, kmt_audio **) = kmt_audio_load_file;
    kmt_status (*p_audio_load_memory)(const void *, size_t, const kmt_audio_params *, kmt_audio **) =
        kmt_audio_load_memory;
    void (*p_audio_free)(kmt_audio *) = kmt_audio_free;
    kmt_status (*p_audio_sample_rate)(const kmt_audio *, int32_t *) = kmt_audio_sample_rate;
    kmt_status (*p_audio_sample_count)(const kmt_audio *, size_t *) = kmt_audio_sample_count;
    kmt_status (*p_audio_samples)(const kmt_audio *, const float **) = kmt_audio_samples;
    kmt_status (*p_audio_source_rate)(const kmt_audio *, int32_t *) = kmt_audio_source_rate;
    kmt_status (*p_audio_source_channels)(const kmt_audio *, int32_t *) = kmt_audio_source_channels;
    kmt_status (*p_audio_format_name)(const kmt_audio *, const char **) = kmt_audio_format_name;
    kmt_audio_params audio_params = {sizeof(kmt_audio_params), 16000, KMT_NONFINITE_REJECT, on_progress, NULL};
    kmt_audio *audio = NULL;

    /* Animations */
    void (*p_animation_free)(kmt_animation *) = kmt_animation_free;
    kmt_status (*p_animation_frame_count)(const kmt_animation *, size_t *) = kmt_animation_frame_count;
    kmt_status (*p_animation_channel_count)(const kmt_animation *, size_t *) = kmt_animation_channel_count;
    kmt_status (*p_animation_fps)(const kmt_animation *, double *) = kmt_animation_fps;
    kmt_status (*p_animation_channel_name)(const kmt_animation *, size_t, const char **) =
        kmt_animation_channel_name;
    kmt_status (*p_animation_read_frames)(const kmt_animation *, size_t, size_t, float *, size_t,
                                          size_t *) = kmt_animation_read_frames;

    /* Rigs */
    kmt_status (*p_rig_load_file)(const char *, kmt_rig **) = kmt_rig_load_file;
    kmt_status (*p_rig_load_memory)(const void *, size_t, kmt_rig **) = kmt_rig_load_memory;
    void (*p_rig_free)(kmt_rig *) = kmt_rig_free;
    kmt_status (*p_rig_vertex_count)(const kmt_rig *, size_t *) = kmt_rig_vertex_count;
    kmt_status (*p_rig_face_count)(const kmt_rig *, size_t *) = kmt_rig_face_count;
    kmt_status (*p_rig_shape_count)(const kmt_rig *, size_t *) = kmt_rig_shape_count;
    kmt_status (*p_rig_shape_name)(const kmt_rig *, size_t, const char **) = kmt_rig_shape_name;
    kmt_status (*p_rig_metadata)(const kmt_rig *, const char *, char *, size_t, size_t *) =
        kmt_rig_metadata;
    kmt_status (*p_rig_read_vertices)(const kmt_rig *, float *, size_t, size_t *) =
        kmt_rig_read_vertices;
    kmt_status (*p_rig_read_faces)(const kmt_rig *, int32_t *, size_t, size_t *) = kmt_rig_read_faces;
    kmt_status (*p_animation_vertices)(const kmt_animation *, const kmt_rig *, size_t, size_t,
                                       kmt_vertex_mode, float *, size_t, size_t *) =
        kmt_animation_vertices;
    kmt_status (*p_animation_vertex_count)(const kmt_animation *, size_t *) = kmt_animation_vertex_count;
    kmt_status (*p_animation_read_faces)(const kmt_animation *, int32_t *, size_t, size_t *) =
        kmt_animation_read_faces;
    kmt_status (*p_rig_unmatched_channels)(const kmt_rig *, const kmt_animation *, size_t *, size_t,
                                           size_t *) = kmt_rig_unmatched_channels;
    kmt_status (*p_rig_unmatched_shapes)(const kmt_rig *, const kmt_animation *, size_t *, size_t,
                                         size_t *) = kmt_rig_unmatched_shapes;
    kmt_status (*p_rig_shape_channels)(const kmt_rig *, const kmt_animation *, int32_t *, size_t,
                                       size_t *) = kmt_rig_shape_channels;

    /* Export */
    kmt_status (*p_animation_save)(const kmt_animation *, const kmt_rig *, const char *,
                                   kmt_export_format) = kmt_animation_save;
    kmt_status (*p_animation_save_to_memory)(const kmt_animation *, const kmt_rig *,
                                             kmt_export_format, void *, size_t, size_t *) =
        kmt_animation_save_to_memory;
    kmt_status (*p_export_params_init)(kmt_export_params *, size_t) = kmt_export_params_init;
    kmt_status (*p_rig_import_params_init)(kmt_rig_import_params *, size_t) = kmt_rig_import_params_init;
    kmt_status (*p_animation_save_with_params)(const kmt_animation *, const kmt_rig *, const char *,
                                               kmt_export_format, const kmt_export_params *) =
        kmt_animation_save_with_params;
    kmt_status (*p_animation_save_to_memory_with_params)(const kmt_animation *, const kmt_rig *,
                                                         kmt_export_format, const kmt_export_params *,
                                                         void *, size_t, size_t *) =
        kmt_animation_save_to_memory_with_params;
    kmt_progress_callback progress = on_progress;

    /* Every type and enum name. */
    kmt_model *model = NULL;
    kmt_session *session = NULL;
    kmt_animation *animation = NULL;
    kmt_rig *rig = NULL;
    kmt_status status = KMT_OK;
    kmt_log_level level = KMT_LOG_WARNING;
    kmt_nonfinite_policy policy = KMT_NONFINITE_ZERO;
    kmt_vertex_mode mode = KMT_VERTICES_OFFSETS;
    enum kmt_vertex_mode tagged_mode = KMT_VERTICES_ABSOLUTE;
    kmt_export_format formats[] = {KMT_EXPORT_AUTO, KMT_EXPORT_JSON, KMT_EXPORT_CSV,
                                   KMT_EXPORT_LIVE_LINK_CSV, KMT_EXPORT_NPY, KMT_EXPORT_GLB,
                                   KMT_EXPORT_OBJ, KMT_EXPORT_PLY, KMT_EXPORT_MOUTH_CUES_TSV,
                                   KMT_EXPORT_MOUTH_CUES_JSON};
    enum kmt_export_format tagged_format = KMT_EXPORT_GLB;
    kmt_model_params model_params = {sizeof(kmt_model_params), 0, 0};
    kmt_session_params session_params = {sizeof(kmt_session_params), 1, KMT_NONFINITE_REJECT, 60.0, KMT_LATENCY_EXACT,
                                         on_progress, NULL};
    kmt_export_params export_params = {sizeof(kmt_export_params), on_progress, NULL, "GHX"};
    kmt_rig_import_params import_params = {sizeof(kmt_rig_import_params), NULL, NULL, "cm", 0, 0, NULL, NULL};
    enum kmt_status tagged_status = KMT_ERR_IO;
    struct kmt_model_params tagged_params = model_params;
    const char *version = KMT_VERSION_STRING;

    (void)p_version; (void)p_version_number; (void)p_status_string; (void)p_last_error;
    (void)callback; (void)p_log_set; (void)p_model_load_file;
    (void)p_model_load_memory; (void)p_model_free; (void)p_model_architecture;
    (void)p_model_sample_rate; (void)p_model_fps; (void)p_model_channel_count;
    (void)p_model_channel_name; (void)p_model_parameter_count; (void)p_model_metadata;
    (void)p_model_log_mel; (void)p_session_stage_times; (void)p_rig_match_names; (void)stage_time;
    (void)p_animation_remap;
    (void)p_animation_save_into_glb;
    (void)p_session_create; (void)p_session_free;
    (void)p_model_motion_space; (void)p_session_latency_ms; (void)p_session_exact_latency_ms;
    (void)p_session_output_fps;
    (void)p_animate_file; (void)p_animate_pcm; (void)p_animation_free;
    (void)p_animation_frame_count; (void)p_animation_channel_count; (void)p_animation_fps;
    (void)p_animation_channel_name; (void)p_animation_read_frames;
    (void)p_rig_load_file; (void)p_rig_load_memory; (void)p_rig_free; (void)p_rig_vertex_count;
    (void)p_rig_face_count; (void)p_rig_shape_count; (void)p_rig_shape_name; (void)p_rig_metadata;
    (void)p_rig_read_vertices; (void)p_rig_read_faces; (void)p_animation_vertices;
    (void)p_animation_vertex_count; (void)p_animation_read_faces;
    (void)p_rig_unmatched_channels; (void)p_rig_unmatched_shapes; (void)p_rig_shape_channels;
    (void)p_animation_save; (void)p_animation_save_to_memory; 
    (void)p_animation_save_with_params; (void)p_animation_save_to_memory_with_params; (void)progress;
    (void)export_params; (void)import_params;
    (void)p_audio_params_init; (void)p_audio_load_file; (void)p_audio_load_memory; (void)p_audio_free;
    (void)p_audio_sample_rate; (void)p_audio_sample_count; (void)p_audio_samples;
    (void)p_audio_source_rate; (void)p_audio_source_channels; (void)p_audio_format_name;
    (void)audio_params; (void)audio;
    (void)p_model_params_init; (void)p_session_params_init; (void)p_export_params_init;
    (void)p_rig_import_params_init;
    (void)mode; (void)tagged_mode; (void)formats; (void)tagged_format;
    (void)model; (void)session; (void)animation; (void)rig; (void)status; (void)level;
    (void)policy; (void)session_params; (void)tagged_status; (void)tagged_params; (void)version;
    return 0;
}
