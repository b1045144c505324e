/*
 * animate.c -- a complete KMTalk host program in C99.
 *
 *     animate MODEL AUDIO [FPS] [-r RIG] [-o OUT]
 *
 * Loads MODEL, animates the audio file AUDIO at FPS frames per second (the
 * model's native rate when omitted), then prints the animation's size, the
 * first frames, and the frame where the jaw opens widest.
 *
 * -r RIG  also poses the animation on a rig (a kmtalk-rig .safetensors file,
 *         such as models/kmtalk-head.rig.safetensors): prints the mesh's
 *         vertex count and how far the lips have moved in the first frame.
 *         (An animation of a vertices-space model carries its own mesh
 *         instead: kmt_animation_vertex_count() gives V > 0, pose it with
 *         rig NULL.)
 * -o OUT  saves the animation; the extension picks the format: .json or .csv
 *         (weights), .tsv (mouth cues for 2D characters), .npy, and with a
 *         rig .glb (glTF with morph targets) or .obj / .ply (one per frame).
 *
 * Exit status: 0 on success, 1 when a KMTalk call fails (the library's
 * message from kmt_last_error() is printed), 2 on a usage error.
 *
 * Build: make (see the Makefile next to this file).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmtalk.h"

/* How much of the animation to print. */
#define PRINT_FRAMES 3
#define PRINT_CHANNELS 8

/* The lip region: the vertices that move at least this fraction of the
   largest displacement at the frame where the jaw opens widest. Found from
   the motion itself, so it works for any rig. */
#define LIP_REGION_FRACTION 0.5f

/* The command line. */
typedef struct arguments {
    const char *model_path;
    const char *audio_path;
    const char *rig_path; /* -r, or NULL */
    const char *out_path; /* -o, or NULL */
    double fps;           /* 0 = the model's native rate */
} arguments;

static void usage(const char *program) {
    fprintf(stderr,
            "usage: %s MODEL AUDIO [FPS] [-r RIG] [-o OUT]\n"
            "  MODEL   a KMTalk model (.safetensors)\n"
            "  AUDIO   an audio file (WAV, FLAC, Ogg, MP3, ...)\n"
            "  FPS     output frame rate, 1..240 (default: the model's native rate)\n"
            "  -r RIG  pose the animation on a rig (.rig.safetensors)\n"
            "  -o OUT  save the animation: .json .csv .tsv .npy, with a rig .glb .obj .ply\n",
            program);
}

/* Reports a failed KMTalk call: what failed, the status, and the detail. */
static void report(const char *what, kmt_status status) {
    fprintf(stderr, "animate: %s failed (%s): %s\n", what, kmt_status_string(status),
            kmt_last_error());
}

/* Parses the FPS argument; returns 0 on success. */
static int parse_fps(const char *text, double *out_fps) {
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !isfinite(value)) {
        return -1;
    }
    *out_fps = value; /* the library checks the range 1..240 */
    return 0;
}

/* Reads the command line into *args; returns 0 on success, -1 on a usage
   error (after saying what is wrong, where that is not obvious). */
static int parse_arguments(int argc, char **argv, arguments *args) {
    int positional = 0;
    memset(args, 0, sizeof *args);
    for (int i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        if (strcmp(arg, "-r") == 0 || strcmp(arg, "-o") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "animate: %s needs a value\n", arg);
                return -1;
            }
            if (arg[1] == 'r') {
                args->rig_path = argv[++i];
            } else {
                args->out_path = argv[++i];
            }
        } else if (positional == 0) {
            args->model_path = arg;
            positional++;
        } else if (positional == 1) {
            args->audio_path = arg;
            positional++;
        } else if (positional == 2) {
            if (parse_fps(arg, &args->fps) != 0) {
                fprintf(stderr, "animate: FPS must be a number, got '%s'\n", arg);
                return -1;
            }
            positional++;
        } else {
            fprintf(stderr, "animate: unexpected argument '%s'\n", arg);
            return -1;
        }
    }
    return positional >= 2 ? 0 : -1;
}

/* Millimetres per rig unit, from the rig's "units" metadata ("m", "cm" or
   "mm"). */
static double millimetres_per_unit(const kmt_rig *rig) {
    char units[8] = "";
    if (kmt_rig_metadata(rig, "units", units, sizeof units, NULL) != KMT_OK) {
        return 1.0;
    }
    if (strcmp(units, "m") == 0) {
        return 1000.0;
    }
    return strcmp(units, "cm") == 0 ? 10.0 : 1.0;
}

/* How far vertex `v` moves: the length of its offset (x, y, z). */
static float displacement(const float *offsets, size_t v) {
    const float *d = offsets + 3 * v;
    return sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
}

/* Poses one frame on the rig as offsets from its neutral mesh: V x 3 floats
   into `offsets`, which holds `length` floats. */
static kmt_status pose_frame(const kmt_animation *animation, const kmt_rig *rig, size_t frame,
                             float *offsets, size_t length) {
    return kmt_animation_vertices(animation, rig, frame, 1, KMT_VERTICES_OFFSETS, offsets, length,
                                  NULL);
}

/* Poses the animation on `rig` and prints the vertex count and the largest
   displacement of the lip region in the first frame. `widest` is the frame
   where the jaw opens widest. Returns 0 on success. */
static int report_rig(const kmt_animation *animation, const kmt_rig *rig, size_t widest) {
    size_t vertices = 0;
    kmt_status status = kmt_rig_vertex_count(rig, &vertices);
    if (status != KMT_OK) {
        report("kmt_rig_vertex_count", status);
        return -1;
    }
    printf("vertices: %zu\n", vertices);
    if (vertices > SIZE_MAX / (3 * sizeof(float))) {
        fprintf(stderr, "animate: %zu vertices do not fit in memory\n", vertices);
        return -1;
    }
    const size_t length = 3 * vertices; /* floats per posed frame */
    float *open = malloc(length * sizeof(float));
    float *first = malloc(length * sizeof(float));
    int result = -1;
    if (open == NULL || first == NULL) {
        fprintf(stderr, "animate: out of memory for 2 x %zu floats\n", length);
        goto done;
    }

    /* Pose two frames: the widest-open one, which shows where the lips are,
       and the first one, which we measure. */
    status = pose_frame(animation, rig, widest, open, length);
    if (status == KMT_OK) {
        status = pose_frame(animation, rig, 0, first, length);
    }
    if (status != KMT_OK) {
        report("kmt_animation_vertices", status);
        goto done;
    }
    float largest = 0.0f;
    for (size_t v = 0; v < vertices; ++v) {
        const float d = displacement(open, v);
        largest = d > largest ? d : largest;
    }

    /* The lip region (what moves most when the mouth is open widest), and
       the first frame's largest displacement inside it. */
    const float threshold = LIP_REGION_FRACTION * largest;
    size_t region = 0, lip_vertex = 0;
    float lip_max = 0.0f;
    for (size_t v = 0; largest > 0.0f && v < vertices; ++v) {
        if (displacement(open, v) >= threshold) {
            region++;
            const float d = displacement(first, v);
            if (d > lip_max) {
                lip_max = d;
                lip_vertex = v;
            }
        }
    }
    printf("lip region: %zu vertices (moving >= %.0f%% of the most at frame %zu)\n", region,
           100.0 * LIP_REGION_FRACTION, widest);
    printf("first frame: lip-region displacement max %.4f mm (vertex %zu)\n",
           (double)lip_max * millimetres_per_unit(rig), lip_vertex);
    result = 0;

done:
    free(open);
    free(first);
    return result;
}

int main(int argc, char **argv) {
    const char *program = argc > 0 ? argv[0] : "animate";
    arguments args;
    if (parse_arguments(argc, argv, &args) != 0) {
        usage(program);
        return 2;
    }

    int exit_code = 1;
    kmt_model *model = NULL;
    kmt_session *session = NULL;
    kmt_animation *animation = NULL;
    kmt_rig *rig = NULL;
    float *weights = NULL;
    kmt_status status;

    status = kmt_model_load_file(args.model_path, NULL, &model);
    if (status != KMT_OK) {
        report("kmt_model_load_file", status);
        goto cleanup;
    }
    /* Load the rig up front, so a bad path fails before the work. */
    if (args.rig_path != NULL) {
        status = kmt_rig_load_file(args.rig_path, &rig);
        if (status != KMT_OK) {
            report("kmt_rig_load_file", status);
            goto cleanup;
        }
    }

    /* The library writes the defaults for this header's struct (sizeof params). */
    kmt_session_params params;
    status = kmt_session_params_init(&params, sizeof params);
    if (status != KMT_OK) {
        report("kmt_session_params_init", status);
        goto cleanup;
    }
    params.n_threads = 1;
    params.output_fps = args.fps;
    status = kmt_session_create(model, &params, &session);
    if (status != KMT_OK) {
        report("kmt_session_create", status);
        goto cleanup;
    }

    status = kmt_animate_file(session, args.audio_path, &animation);
    if (status != KMT_OK) {
        report("kmt_animate_file", status);
        goto cleanup;
    }

    /* Every property is read as a status and an out-parameter. */
    size_t frames = 0, channels = 0;
    double anim_fps = 0;
    const char *architecture = NULL;
    if ((status = kmt_animation_frame_count(animation, &frames)) != KMT_OK ||
        (status = kmt_animation_channel_count(animation, &channels)) != KMT_OK ||
        (status = kmt_animation_fps(animation, &anim_fps)) != KMT_OK ||
        (status = kmt_model_architecture(model, &architecture)) != KMT_OK) {
        report("reading the animation's size", status);
        goto cleanup;
    }
    printf("kmtalk %s, model %s (%s)\n", kmt_version(), args.model_path, architecture);
    printf("frames: %zu\n", frames);
    printf("fps: %g\n", (double)anim_fps);
    printf("channels: %zu\n", channels);
    if (frames == 0 || channels == 0) {
        fprintf(stderr, "animate: the animation is empty\n");
        goto cleanup;
    }

    /* Read every frame at once: frames x channels floats, row-major. */
    if (frames > SIZE_MAX / channels || frames * channels > SIZE_MAX / sizeof(float)) {
        fprintf(stderr, "animate: %zu x %zu floats do not fit in memory\n", frames, channels);
        goto cleanup;
    }
    const size_t length = frames * channels;
    weights = malloc(length * sizeof(float));
    if (weights == NULL) {
        fprintf(stderr, "animate: out of memory for %zu floats\n", length);
        goto cleanup;
    }
    size_t written = 0;
    status = kmt_animation_read_frames(animation, 0, frames, weights, length, &written);
    if (status != KMT_OK) {
        report("kmt_animation_read_frames", status);
        goto cleanup;
    }
    if (written != length) {
        fprintf(stderr, "animate: kmt_animation_read_frames wrote %zu floats, expected %zu\n",
                written, length);
        goto cleanup;
    }

    /* The first frames, first channels. */
    const size_t show_frames = frames < PRINT_FRAMES ? frames : PRINT_FRAMES;
    const size_t show_channels = channels < PRINT_CHANNELS ? channels : PRINT_CHANNELS;
    for (size_t f = 0; f < show_frames; ++f) {
        printf("frame %zu (t=%.3f s):", f, (double)f / (double)anim_fps);
        for (size_t c = 0; c < show_channels; ++c) {
            const char *name = NULL; /* stays NULL if the call fails */
            kmt_animation_channel_name(animation, c, &name);
            printf(" %s=%.4f", name != NULL ? name : "?", (double)weights[f * channels + c]);
        }
        printf("\n");
    }

    /* The frame where jawOpen is largest. */
    size_t jaw = channels;
    for (size_t c = 0; c < channels; ++c) {
        const char *name = NULL;
        if (kmt_animation_channel_name(animation, c, &name) == KMT_OK && strcmp(name, "jawOpen") == 0) {
            jaw = c;
            break;
        }
    }
    size_t widest = 0;
    if (jaw == channels) {
        printf("jawOpen: not a channel of this model\n");
    } else {
        for (size_t f = 1; f < frames; ++f) {
            if (weights[f * channels + jaw] > weights[widest * channels + jaw]) {
                widest = f;
            }
        }
        printf("jawOpen is largest at frame %zu (t=%.3f s): jawOpen=%.4f\n", widest,
               (double)widest / (double)anim_fps, (double)weights[widest * channels + jaw]);
    }

    /* Pose the rig. */
    if (rig != NULL && report_rig(animation, rig, widest) != 0) {
        goto cleanup;
    }

    /* Save. The rig may be NULL: weight formats and mouth cues ignore it,
       the geometry formats (.glb .obj .ply) fail with "... needs a rig". */
    if (args.out_path != NULL) {
        status = kmt_animation_save(animation, rig, args.out_path, KMT_EXPORT_AUTO);
        if (status != KMT_OK) {
            report("kmt_animation_save", status);
            goto cleanup;
        }
        printf("saved: %s\n", args.out_path);
    }
    exit_code = 0;

cleanup:
    free(weights);
    kmt_rig_free(rig);
    kmt_animation_free(animation);
    kmt_session_free(session);
    kmt_model_free(model);
    return exit_code;
}
