/*
 * Thread stress for the C API (scripts/sanitize.sh runs it under ThreadSanitizer and
 * AddressSanitizer+UBSan): one model shared by THREADS threads, each with its own
 * session, each animating a signal offline and streaming it in random chunks (random
 * pulls, random buffer sizes, a reset half way, non-finite samples replaced), ROUNDS
 * times. Every result must equal, bit for bit, the one computed first on the main
 * thread with the same chunking.
 *
 *     stress_threads MODEL [THREADS] [ROUNDS]
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmtalk.h"

#define RATE 22050
#define SECONDS 1.5
#define TWO_PI 6.283185307179586

static kmt_model *model;
static float *signal_pcm;
static size_t signal_frames;
static int rounds = 3;

typedef struct {
    float *frames;
    size_t count;
} result;

typedef struct {
    unsigned seed;
    result offline, streamed;
    int failed;
} job;

static unsigned next(unsigned *state) {
    *state = *state * 1103515245u + 12345u;
    return (*state >> 8) & 0xffffff;
}

static int fail(const char *what, kmt_status status) {
    fprintf(stderr, "%s: %s (%s)\n", what, kmt_status_string(status), kmt_last_error());
    return 1;
}

static kmt_session *new_session(void) {
    kmt_session_params params;
    kmt_status status = kmt_session_params_init(&params, sizeof params);
    if (status != KMT_OK) {
        fail("kmt_session_params_init", status);
        return NULL;
    }
    params.n_threads = 1;
    params.nonfinite_policy = KMT_NONFINITE_ZERO;
    kmt_session *session = NULL;
    status = kmt_session_create(model, &params, &session);
    if (status != KMT_OK) fail("kmt_session_create", status);
    return session;
}

/* Offline animation of the whole signal. */
static int run_offline(result *out) {
    kmt_session *session = new_session();
    kmt_animation *animation = NULL;
    if (!session) return 1;
    kmt_status status = kmt_animate_pcm(session, signal_pcm, signal_frames, RATE, 1, &animation);
    if (status != KMT_OK) return fail("kmt_animate_pcm", status);
    size_t channels = 0, frames = 0;
    if ((status = kmt_animation_channel_count(animation, &channels)) != KMT_OK ||
        (status = kmt_animation_frame_count(animation, &frames)) != KMT_OK) {
        kmt_animation_free(animation);
        kmt_session_free(session);
        return fail("kmt_animation_*_count", status);
    }
    out->count = frames * channels;
    out->frames = malloc(out->count * sizeof(float));
    status = kmt_animation_read_frames(animation, 0, frames, out->frames, out->count, NULL);
    kmt_animation_free(animation);
    kmt_session_free(session);
    return status == KMT_OK ? 0 : fail("kmt_animation_read_frames", status);
}

/* Streams the signal in chunks drawn from `seed`; a first utterance is cut off and reset. */
static int run_streamed(unsigned seed, result *out) {
    kmt_session *session = new_session();
    if (!session) return 1;
    size_t channels = 0;
    kmt_status status = kmt_model_channel_count(model, &channels);
    if (status != KMT_OK) return fail("kmt_model_channel_count", status);
    size_t capacity = channels * 4096;
    out->frames = malloc(capacity * sizeof(float));
    out->count = 0;
    float *buffer = malloc(channels * 64 * sizeof(float));
    unsigned state = seed;
    /* A false start: half a second, then reset. */
    status = kmt_session_push_f32(session, signal_pcm, RATE / 2, RATE, 1);
    if (status != KMT_OK) return fail("push", status);
    if ((status = kmt_session_reset(session)) != KMT_OK) return fail("reset", status);
    size_t offset = 0;
    int flushed = 0;
    for (;;) {
        if (offset < signal_frames) {
            size_t chunk = 1 + next(&state) % 2000;
            if (chunk > signal_frames - offset) chunk = signal_frames - offset;
            status = kmt_session_push_f32(session, signal_pcm + offset, chunk, RATE, 1);
            if (status != KMT_OK) return fail("push", status);
            offset += chunk;
        } else if (!flushed) {
            if ((status = kmt_session_flush(session)) != KMT_OK) return fail("flush", status);
            flushed = 1;
        }
        for (;;) {
            size_t room = channels * (1 + next(&state) % 64), got = 0;
            status = kmt_session_pull(session, buffer, room, &got, NULL);
            if (status != KMT_OK) return fail("pull", status);
            if (got == 0) break;
            if (out->count + got * channels > capacity) return fail("too many frames", KMT_ERR_INTERNAL);
            memcpy(out->frames + out->count, buffer, got * channels * sizeof(float));
            out->count += got * channels;
        }
        if (flushed) break;
    }
    free(buffer);
    kmt_session_free(session);
    return 0;
}

static int same(const result *a, const result *b) {
    return a->count == b->count && memcmp(a->frames, b->frames, a->count * sizeof(float)) == 0;
}

static void *worker(void *argument) {
    job *expected = argument;
    for (int round = 0; round < rounds && !expected->failed; round++) {
        result offline = {0}, streamed = {0};
        if (run_offline(&offline) || run_streamed(expected->seed, &streamed)) {
            expected->failed = 1;
        } else if (!same(&offline, &expected->offline) || !same(&streamed, &expected->streamed)) {
            fprintf(stderr, "thread with seed %u: results differ from the main thread's\n", expected->seed);
            expected->failed = 1;
        }
        free(offline.frames);
        free(streamed.frames);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: stress_threads MODEL [THREADS] [ROUNDS]\n");
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 8;
    rounds = argc > 3 ? atoi(argv[3]) : 3;
    if (threads < 1 || threads > 64 || rounds < 1) return 2;
    kmt_status status = kmt_model_load_file(argv[1], NULL, &model);
    if (status != KMT_OK) return fail("kmt_model_load_file", status);

    signal_frames = (size_t)(SECONDS * RATE);
    signal_pcm = malloc(signal_frames * sizeof(float));
    unsigned noise = 7;
    for (size_t i = 0; i < signal_frames; i++) {
        double t = (double)i / RATE;
        signal_pcm[i] = (float)(0.3 * sin(TWO_PI * 180 * t) * (0.5 + 0.5 * sin(TWO_PI * 3 * t))
                                + 0.05 * ((double)next(&noise) / 0xffffff - 0.5));
    }
    signal_pcm[1000] = NAN; /* replaced by zero (KMT_NONFINITE_ZERO) */

    job *jobs = calloc((size_t)threads, sizeof(job));
    for (int i = 0; i < threads; i++) {
        jobs[i].seed = 1000u + (unsigned)i;
        if (run_offline(&jobs[i].offline) || run_streamed(jobs[i].seed, &jobs[i].streamed)) return 1;
        if (jobs[i].offline.count == 0 || jobs[i].streamed.count != jobs[i].offline.count) {
            fprintf(stderr, "reference run: %zu offline and %zu streamed values\n", jobs[i].offline.count, jobs[i].streamed.count);
            return 1;
        }
    }
    pthread_t *ids = calloc((size_t)threads, sizeof(pthread_t));
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, worker, &jobs[i]);
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        failed |= jobs[i].failed;
        free(jobs[i].offline.frames);
        free(jobs[i].streamed.frames);
    }
    printf("%d threads x %d rounds on one model: offline and streamed results %s the main thread's\n", threads, rounds,
           failed ? "DIFFER FROM" : "equal, bit for bit,");
    free(ids);
    free(jobs);
    free(signal_pcm);
    kmt_model_free(model);
    return failed;
}
