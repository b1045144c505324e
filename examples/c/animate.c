/*
 * animate.c -- a complete KMTalk host program in C99.
 *
 *     animate MODEL AUDIO [FPS]
 *
 * Loads MODEL, animates the audio file AUDIO at FPS frames per second (the
 * model's native rate when omitted), then prints the animation's size, the
 * first frames, and the frame where the jaw opens widest.
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

static void usage(const char *program) {
    fprintf(stderr,
            "usage: %s MODEL AUDIO [FPS]\n"
            "  MODEL  a KMTalk model (.safetensors)\n"
            "  AUDIO  an audio file (WAV, FLAC, Ogg, MP3, ...)\n"
            "  FPS    output frame rate, 1..240 (default: the model's native rate)\n",
            program);
}

/* Reports a failed KMTalk call: what failed, the status, and the detail. */
static void report(const char *what, kmt_status status) {
    fprintf(stderr, "animate: %s failed (%s): %s\n", what, kmt_status_string(status),
            kmt_last_error());
}

/* Parses the FPS argument; returns 0 on success. */
static int parse_fps(const char *text, float *out_fps) {
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !isfinite(value)) {
        return -1;
    }
    *out_fps = (float)value; /* the library checks the range 1..240 */
    return 0;
}

int main(int argc, char **argv) {
    const char *program = argc > 0 ? argv[0] : "animate";
    if (argc < 3 || argc > 4) {
        usage(program);
        return 2;
    }
    const char *model_path = argv[1];
    const char *audio_path = argv[2];
    float fps = 0.0f; /* 0 = the model's native rate */
    if (argc == 4 && parse_fps(argv[3], &fps) != 0) {
        fprintf(stderr, "animate: FPS must be a number, got '%s'\n", argv[3]);
        usage(program);
        return 2;
    }

    int exit_code = 1;
    kmt_model *model = NULL;
    kmt_session *session = NULL;
    kmt_animation *animation = NULL;
    float *weights = NULL;
    kmt_status status;

    status = kmt_model_load_file(model_path, NULL, &model);
    if (status != KMT_OK) {
        report("kmt_model_load_file", status);
        goto cleanup;
    }

    kmt_session_params params = kmt_session_default_params();
    params.n_threads = 1;
    params.output_fps = fps;
    status = kmt_session_create(model, &params, &session);
    if (status != KMT_OK) {
        report("kmt_session_create", status);
        goto cleanup;
    }

    status = kmt_animate_file(session, audio_path, &animation);
    if (status != KMT_OK) {
        report("kmt_animate_file", status);
        goto cleanup;
    }

    const size_t frames = kmt_animation_frame_count(animation);
    const size_t channels = kmt_animation_channel_count(animation);
    const float anim_fps = kmt_animation_fps(animation);
    printf("kmtalk %s, model %s (%s)\n", kmt_version(), model_path, kmt_model_architecture(model));
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
            const char *name = kmt_animation_channel_name(animation, c);
            printf(" %s=%.4f", name != NULL ? name : "?", (double)weights[f * channels + c]);
        }
        printf("\n");
    }

    /* The frame where jawOpen is largest. */
    size_t jaw = channels;
    for (size_t c = 0; c < channels; ++c) {
        const char *name = kmt_animation_channel_name(animation, c);
        if (name != NULL && strcmp(name, "jawOpen") == 0) {
            jaw = c;
            break;
        }
    }
    if (jaw == channels) {
        printf("jawOpen: not a channel of this model\n");
    } else {
        size_t best = 0;
        for (size_t f = 1; f < frames; ++f) {
            if (weights[f * channels + jaw] > weights[best * channels + jaw]) {
                best = f;
            }
        }
        printf("jawOpen is largest at frame %zu (t=%.3f s): jawOpen=%.4f\n", best,
               (double)best / (double)anim_fps, (double)weights[best * channels + jaw]);
    }
    exit_code = 0;

cleanup:
    free(weights);
    kmt_animation_free(animation);
    kmt_session_free(session);
    kmt_model_free(model);
    return exit_code;
}
