// test_kmtalk.cpp -- tests bindings/cpp/kmtalk.hpp against the real libKMTalk.
//
// Run from the repository root (scripts/test-cpp.sh builds and runs it):
//
//     c++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -Ibindings/cpp
//         bindings/cpp/test_kmtalk.cpp -L.build/debug -lKMTalk -Wl,-rpath,$PWD/.build/debug -pthread
//     ./a.out [REPO_ROOT]
//
// Prints one "PASS: ..." or "FAIL: ..." line per check and exits 1 when any
// check failed (an unexpected exception fails the section it escaped from).
#include "kmtalk.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

// ---- Compile-time properties of the wrapper ------------------------------------

template <class T>
constexpr bool move_only_v = !std::is_copy_constructible<T>::value && !std::is_copy_assignable<T>::value &&
                             std::is_nothrow_move_constructible<T>::value &&
                             std::is_nothrow_move_assignable<T>::value &&
                             std::is_nothrow_default_constructible<T>::value &&
                             std::is_nothrow_destructible<T>::value;
static_assert(move_only_v<kmtalk::Model>, "Model is move-only");
static_assert(move_only_v<kmtalk::Session>, "Session is move-only");
static_assert(move_only_v<kmtalk::Animation>, "Animation is move-only");
static_assert(move_only_v<kmtalk::Rig>, "Rig is move-only");
static_assert(std::is_base_of<std::runtime_error, kmtalk::Error>::value, "Error is a runtime_error");
static_assert(std::is_base_of<kmtalk::Error, kmtalk::PushManyError>::value, "PushManyError is an Error");
static_assert(!std::is_convertible<const char *, kmtalk::Model>::value, "Model(path) is explicit");
static_assert(!std::is_convertible<const char *, kmtalk::Rig>::value, "Rig(path) is explicit");
static_assert(!std::is_convertible<kmtalk::Model, bool>::value, "operator bool is explicit");
static_assert(std::is_convertible<std::vector<float>, kmtalk::FloatView>::value, "vector -> FloatView");
static_assert(std::is_convertible<std::vector<std::int16_t>, kmtalk::Int16View>::value, "vector -> Int16View");
#ifdef KMTALK_HPP_HAS_SPAN
static_assert(std::is_convertible<std::span<const float>, kmtalk::FloatView>::value, "span<const float> -> FloatView");
static_assert(std::is_convertible<std::span<float, 4>, kmtalk::FloatView>::value, "span<float, 4> -> FloatView");
static_assert(std::is_convertible<std::span<const std::int16_t>, kmtalk::Int16View>::value, "span -> Int16View");
#endif

namespace {

int failures = 0;
int passes = 0;

void pass(const std::string &what) {
    ++passes;
    std::cout << "PASS: " << what << std::endl;
}

void fail(const std::string &what) {
    ++failures;
    std::cout << "FAIL: " << what << std::endl;
}

void check(bool ok, const std::string &what) { ok ? pass(what) : fail(what); }

/** Runs one section; an exception escaping it is a failure, and the next section still runs. */
void section(const std::string &name, const std::function<void()> &body) {
    std::cout << "-- " << name << std::endl;
    try {
        body();
    } catch (const kmtalk::Error &e) {
        fail(name + ": unexpected kmtalk::Error: " + e.what());
    } catch (const std::exception &e) {
        fail(name + ": unexpected exception: " + e.what());
    }
}

/**
 * Checks that `body` throws kmtalk::Error with `status`, whose message()
 * contains `needle` (when not empty), whose what() names the status, and
 * that kmt_last_error() still holds the message afterwards.
 */
template <class Body>
std::optional<kmtalk::Error> expect_error(const std::string &what, kmtalk::Status status, Body &&body,
                                          const std::string &needle = std::string()) {
    try {
        body();
    } catch (const kmtalk::Error &e) {
        const std::string name = kmtalk::status_name(status);
        bool ok = e.status() == status && std::string(e.what()).find(name) != std::string::npos &&
                  (needle.empty() || e.message().find(needle) != std::string::npos);
        if (ok) {
            pass(what + " -> " + e.what());
        } else {
            fail(what + ": expected " + name + (needle.empty() ? "" : " mentioning '" + needle + "'") +
                 ", got " + e.what());
        }
        return e;
    } catch (const std::exception &e) {
        fail(what + ": expected kmtalk::Error, got another exception: " + e.what());
        return std::nullopt;
    }
    fail(what + ": expected kmtalk::Error " + kmtalk::status_name(status) + ", nothing thrown");
    return std::nullopt;
}

bool contains(const std::vector<std::string> &names, const std::string &name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

bool all_finite(const std::vector<float> &values) {
    return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

float max_abs_diff(const std::vector<float> &a, const std::vector<float> &b) {
    float worst = 0.0f;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    return worst;
}

/** Whether a frame count is within 2 of seconds x fps (kmtalk.h does not state the exact rule). */
bool near_count(std::size_t frames, double expected) {
    return std::fabs(static_cast<double>(frames) - expected) <= 2.0;
}

std::vector<unsigned char> read_bytes(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string fmt(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

/** 1.6 s of a deterministic speech-like signal at 16 kHz: voiced syllables, noise bursts, pauses. */
std::vector<float> synthetic_speech(int rate = 16000, double seconds = 1.6) {
    const std::size_t n = static_cast<std::size_t>(rate * seconds);
    std::vector<float> out(n);
    std::uint32_t seed = 12345u;
    const double pi = 3.14159265358979323846;
    double phase = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / rate;
        seed = seed * 1664525u + 1013904223u;
        const double noise = (static_cast<double>(seed >> 8) / 16777216.0) * 2.0 - 1.0;
        const double f0 = 130.0 + 40.0 * std::sin(2 * pi * 0.7 * t);
        phase += 2 * pi * f0 / rate;
        double voiced = 0.0;
        for (int h = 1; h <= 8; ++h) voiced += std::sin(h * phase) / h;
        const double syllable = std::max(0.0, std::sin(2 * pi * 3.5 * t));  // ~4 syllables a second
        const double burst = std::fmod(t, 0.45) < 0.05 ? 0.25 : 0.0;        // fricative-like bursts
        const double pause = (t > 0.9 && t < 1.1) ? 0.0 : 1.0;
        out[i] = static_cast<float>(pause * (0.25 * syllable * voiced + burst * noise) + 0.003 * noise);
    }
    return out;
}

/** The int16 version of `signal` and its exact float equivalent (q / 32768, as push_s16 scales). */
std::pair<std::vector<std::int16_t>, std::vector<float>> quantize(const std::vector<float> &signal) {
    std::vector<std::int16_t> q(signal.size());
    std::vector<float> back(signal.size());
    for (std::size_t i = 0; i < signal.size(); ++i) {
        const long v = std::lround(std::clamp(signal[i], -1.0f, 1.0f) * 32767.0f);
        q[i] = static_cast<std::int16_t>(v);
        back[i] = static_cast<float>(q[i]) / 32768.0f;
    }
    return {q, back};
}

/** Streams `pcm` in chunks of `chunk` samples (16 kHz mono), pulling after each push, then flushes. */
template <class Sample>
kmtalk::PulledFrames stream_all(kmtalk::Session &session, const std::vector<Sample> &pcm, std::size_t chunk,
                                bool *times_ok) {
    kmtalk::PulledFrames all;
    all.channel_count = session.channel_count();
    const double fps = session.output_fps();
    *times_ok = true;
    auto take = [&](const kmtalk::PulledFrames &got) {
        if (got.empty()) return;
        if (got.channel_count != all.channel_count || got.data.size() != got.frame_count * got.channel_count) {
            *times_ok = false;
        }
        // The first frame of each pull continues where the previous pull ended.
        if (std::fabs(got.first_time - static_cast<double>(all.frame_count) / fps) > 1e-6) *times_ok = false;
        all.data.insert(all.data.end(), got.data.begin(), got.data.end());
        all.frame_count += got.frame_count;
    };
    for (std::size_t start = 0; start < pcm.size(); start += chunk) {
        const std::size_t count = std::min(chunk, pcm.size() - start);
        session.push(kmtalk::BasicView<Sample>(pcm.data() + start, count), 16000, 1);
        take(session.pull());
    }
    session.flush();
    for (;;) {
        kmtalk::PulledFrames got = session.pull();
        if (got.empty()) break;
        take(got);
    }
    return all;
}

const std::string kTiny = "models/kmtalk-tiny-random.safetensors";
const std::string kBase = "models/kmtalk-base.safetensors";
const std::string kRig = "models/kmtalk-head.rig.safetensors";
const std::string kHello = "examples/audio/hello.wav";

}  // namespace

int main(int argc, char **argv) {
    const auto started = std::chrono::steady_clock::now();
    if (argc > 1) fs::current_path(argv[1]);
    std::cout << "kmtalk " << kmtalk::version() << " (header " << KMT_VERSION_STRING << "), cwd "
              << fs::current_path().string() << std::endl;

    const fs::path tmp = fs::temp_directory_path() /
                         ("kmtalk-test-cpp-" + std::to_string(std::chrono::steady_clock::now()
                                                                   .time_since_epoch()
                                                                   .count()));
    fs::create_directories(tmp);

    section("version and status names", [&] {
        check(kmtalk::version() == KMT_VERSION_STRING && kmtalk::version_number() == KMT_VERSION_NUMBER,
              "version() " + kmtalk::version() + " matches the header");
        check(kmtalk::status_name(KMT_ERR_IO) == "KMT_ERR_IO" &&
                  kmtalk::status_name(KMT_ERR_CORRUPT_RIG) == "KMT_ERR_CORRUPT_RIG" &&
                  kmtalk::status_name(static_cast<kmt_status>(42)) == "KMT_STATUS_42",
              "status_name() names every status, unknown ones by number");
    });

    // ---- Models ---------------------------------------------------------------------
    section("models", [&] {
        for (const std::string &path : {kTiny, kBase}) {
            kmtalk::Model model(path);
            const auto names = model.channel_names();
            check(static_cast<bool>(model) && model.get() != nullptr, path + ": loads");
            check(model.sample_rate() == 16000 && model.fps() == 50.0f && model.channel_count() == 52 &&
                      names.size() == 52 && contains(names, "jawOpen") && model.channel_name(51) == "tongueOut" &&
                      model.motion_space() == "arkit",
                  path + ": 16000 Hz, 50 fps, 52 arkit channels incl. jawOpen (" + model.architecture() + ", " +
                      std::to_string(model.parameter_count()) + " parameters)");
            expect_error(path + ": channel_name(52)", KMT_ERR_INVALID_ARGUMENT, [&] { model.channel_name(52); },
                         "channel index 52 is not below the channel count 52");
            check(model.architecture() == (path == kTiny ? "kmtalk-direct" : "kmtalk") &&
                      model.parameter_count() > 0,
                  path + ": architecture " + model.architecture());
            const auto format = model.metadata("format");
            const auto arch = model.metadata("architecture");
            check(format && *format == "kmtalk" && arch && *arch == model.architecture() &&
                      !model.metadata("no-such-key").has_value(),
                  path + ": metadata(format) = kmtalk, metadata(architecture), missing key -> nullopt");
            const auto bytes = read_bytes(path);
            kmtalk::Model from_memory(bytes.data(), bytes.size());
            check(from_memory.parameter_count() == model.parameter_count() &&
                      from_memory.channel_names() == names && from_memory.architecture() == model.architecture(),
                  path + ": loads from memory (" + std::to_string(bytes.size()) + " bytes) identically");
        }
        kmtalk::Model c_string(kTiny.c_str());
        check(c_string.channel_count() == 52, "Model(const char *) loads");
    });

    // ---- Offline animation -------------------------------------------------------------
    section("animate hello.wav", [&] {
        for (const std::string &path : {kTiny, kBase}) {
            kmtalk::Model model(path);
            kmtalk::Session session(model);
            kmtalk::Animation anim = session.animate_file(kHello);
            const auto names = anim.channel_names();
            const auto frames = anim.frames();
            check(anim.frame_count() > 200 && anim.channel_count() == 52 && anim.fps() == 50.0f,
                  path + ": hello.wav -> " + std::to_string(anim.frame_count()) + " frames x " +
                      std::to_string(anim.channel_count()) + " channels at " + fmt(anim.fps()) + " fps");
            check(contains(names, "jawOpen") && names == model.channel_names(), path + ": channel names contain jawOpen");
            check(frames.size() == anim.frame_count() * anim.channel_count() && all_finite(frames),
                  path + ": frames() gives frame_count x channel_count finite values");
            // read_frames into a caller buffer: a slice equals the matching part of frames().
            std::vector<float> slice(3 * anim.channel_count());
            const std::size_t written = anim.read_frames(10, 3, slice.data(), slice.size());
            check(written == slice.size() &&
                      std::equal(slice.begin(), slice.end(), frames.begin() + 10 * static_cast<long>(anim.channel_count())),
                  path + ": read_frames(10, 3, buffer) writes " + std::to_string(written) + " floats equal to frames()");
            check(anim.read_frames(anim.frame_count() - 1, 1).size() == anim.channel_count(),
                  path + ": read_frames(last, 1) returns one frame");
            expect_error(path + ": read_frames into a too-small buffer", KMT_ERR_BUFFER_TOO_SMALL,
                         [&] { anim.read_frames(0, 2, slice.data(), 1); });
            expect_error(path + ": read_frames past the end", KMT_ERR_INVALID_ARGUMENT,
                         [&] { anim.read_frames(anim.frame_count(), 1); });
            if (path == kBase) {
                const std::size_t jaw = static_cast<std::size_t>(
                    std::find(names.begin(), names.end(), "jawOpen") - names.begin());
                float jaw_max = 0.0f;
                for (std::size_t f = 0; f < anim.frame_count(); ++f) {
                    jaw_max = std::max(jaw_max, frames[f * anim.channel_count() + jaw]);
                }
                check(jaw_max > 0.05f, "kmtalk-base: jawOpen opens on speech (max " + fmt(jaw_max) + ")");
            }
        }
        kmtalk::Model model(kTiny);
        kmtalk::Session session60(model, {1, 60.0f, false});
        kmtalk::Animation anim60 = session60.animate_file(kHello.c_str());
        check(anim60.fps() == 60.0f && session60.output_fps() == 60.0 && anim60.frame_count() > 280,
              "SessionOptions{threads 1, output_fps 60}: " + std::to_string(anim60.frame_count()) + " frames at 60 fps");
        kmtalk::Animation mapped = anim60.remap(R"({"channels": {"jawOpen": ["Mouth_Open", "Jaw_Down"]}})");
        check(mapped.channel_count() == 2 && mapped.frame_count() == anim60.frame_count(),
              "Animation::remap: jawOpen drives two shapes of a character");
        expect_error("remap with an unknown channel", KMT_ERR_INVALID_ARGUMENT,
                     [&] { anim60.remap(R"({"channels": {"jawOpn": "A"}})"); }, "jawOpn");
    });

    // ---- Decoding for hosts that stream files ------------------------------------------
    section("Audio: the library's decoder", [&] {
        kmtalk::Model model(kBase);
        kmtalk::Audio audio(kHello, model.sample_rate());
        check(static_cast<bool>(audio) && audio.sample_rate() == 16000 && audio.sample_count() > 16000 &&
                  audio.samples().size == audio.sample_count() && audio.source_channels() >= 1 &&
                  !audio.format_name().empty(),
              "Audio(hello.wav, 16000): " + std::to_string(audio.sample_count()) + " samples from " +
                  std::to_string(audio.source_rate()) + " Hz (" + audio.format_name() + ")");
        kmtalk::Session session(model);
        const std::vector<float> from_file = session.animate_file(kHello).frames();
        const std::vector<float> from_samples = session.animate_pcm(audio.samples(), audio.sample_rate()).frames();
        check(from_file == from_samples, "animate_pcm(Audio.samples()) equals animate_file exactly");
        const auto bytes = read_bytes(kHello);
        kmtalk::Audio in_memory(bytes.data(), bytes.size(), 16000);
        check(in_memory.sample_count() == audio.sample_count() &&
                  std::equal(audio.samples().begin(), audio.samples().end(), in_memory.samples().begin()),
              "Audio(bytes) decodes the same samples as Audio(path)");
        int calls = 0;
        kmtalk::Audio native(kHello, 0, [&](float, const char *) { return ++calls > 0; });
        check(native.sample_rate() == native.source_rate(), "sample_rate 0 keeps the file's rate (" +
                  std::to_string(native.sample_rate()) + " Hz), progress called " + std::to_string(calls) + " times");
        expect_error("Audio of a missing file", KMT_ERR_IO, [&] { kmtalk::Audio missing("no-such-file.wav"); });
        expect_error("Audio cancelled by its progress function", KMT_ERR_CANCELLED,
                     [&] { kmtalk::Audio cancelled(kHello, 0, [](float, const char *) { return false; }); });
        const unsigned char junk[16] = {1, 2, 3};
        expect_error("Audio of 16 bytes of junk", KMT_ERR_UNSUPPORTED_FORMAT,
                     [&] { kmtalk::Audio bad(junk, sizeof junk); });
    });

    // ---- PCM, streaming ----------------------------------------------------------------
    const std::vector<float> signal = synthetic_speech();
    section("animate_pcm and streaming equivalence", [&] {
        for (const std::string &path : {kBase, kTiny}) {
            kmtalk::Model model(path);
            kmtalk::Session offline_session(model);
            kmtalk::Animation offline = offline_session.animate_pcm(signal, 16000);
            const std::vector<float> reference = offline.frames();
            kmtalk::Animation by_pointer = offline_session.animate_pcm(signal.data(), signal.size(), 16000, 1);
            check(near_count(offline.frame_count(), 1.6 * 50) && reference == by_pointer.frames() &&
                      all_finite(reference),
                  path + ": animate_pcm(FloatView) = animate_pcm(pointer, frames): " +
                      std::to_string(offline.frame_count()) + " frames for 1.6 s");

            kmtalk::Session session(model, {1, 0.0f, false});
            const double exact = session.exact_latency_ms();
            check(session.latency_ms() > 0 && exact >= session.latency_ms() - 1e-9 && session.channel_count() == 52,
                  path + ": latency_ms " + fmt(session.latency_ms()) + ", exact_latency_ms " + fmt(exact));
            session.set_latency_ms(exact);
            check(std::fabs(session.latency_ms() - exact) < 1e-9, path + ": set_latency_ms(exact) takes effect");
            check(session.pending_frames() == 0 && session.pull().empty(), path + ": nothing to pull before a push");

            bool times_ok = false;
            const kmtalk::PulledFrames streamed = stream_all(session, signal, 160, &times_ok);
            const float diff = max_abs_diff(streamed.data, reference);
            check(streamed.frame_count == offline.frame_count() && streamed.data.size() == reference.size() &&
                      diff <= 1e-3f,
                  path + ": float stream in 10 ms chunks at the exact latency equals animate_pcm (" +
                      std::to_string(streamed.frame_count) + " frames, max diff " + fmt(diff) + ")");
            check(times_ok, path + ": each pull's first_time continues the previous one");

            expect_error(path + ": push after flush", KMT_ERR_INVALID_ARGUMENT,
                         [&] { session.push(signal.data(), 160, 16000, 1); });

            // reset(): the next utterance, as int16 this time, at the same (kept) latency.
            session.reset();
            check(std::fabs(session.latency_ms() - exact) < 1e-9, path + ": reset() keeps the latency");
            const auto quantized = quantize(signal);
            const std::vector<float> reference16 = offline_session.animate_pcm(quantized.second, 16000).frames();
            const kmtalk::PulledFrames streamed16 = stream_all(session, quantized.first, 160, &times_ok);
            const float diff16 = max_abs_diff(streamed16.data, reference16);
            check(streamed16.frame_count == offline.frame_count() && streamed16.data.size() == reference16.size() &&
                      diff16 <= 1e-3f && times_ok,
                  path + ": int16 stream after reset() equals animate_pcm of the same samples (max diff " +
                      fmt(diff16) + ")");

            // The default latency: the same frame count.
            kmtalk::Session fast(model, {1, 0.0f, false});
            const kmtalk::PulledFrames streamed_default = stream_all(fast, signal, 160, &times_ok);
            check(streamed_default.frame_count == offline.frame_count() && all_finite(streamed_default.data),
                  path + ": stream at the default " + fmt(fast.latency_ms()) + " ms gives the same frame count (max diff " +
                      fmt(max_abs_diff(streamed_default.data, reference)) + ")");
        }

        kmtalk::Model model(kTiny);
        kmtalk::Session session(model, {1, 0.0f, false});
        expect_error("set_latency_ms(5)", KMT_ERR_INVALID_ARGUMENT, [&] { session.set_latency_ms(5); });
        session.push(kmtalk::FloatView(signal.data(), 8000), 16000);
        expect_error("set_latency_ms after a push", KMT_ERR_INVALID_ARGUMENT, [&] { session.set_latency_ms(200); });
        expect_error("push at another rate mid-utterance", KMT_ERR_INVALID_ARGUMENT,
                     [&] { session.push(signal.data(), 441, 44100, 1); });
        const std::size_t pending = session.pending_frames();
        float one = 0.0f;
        if (pending > 0) {
            expect_error("pull(buffer) with room for less than a frame", KMT_ERR_BUFFER_TOO_SMALL,
                         [&] { session.pull(&one, 1); });
            std::vector<float> buffer(2 * session.channel_count());
            const kmtalk::PullResult two = session.pull(buffer.data(), buffer.size());
            check(two.frame_count == 2 && two.first_time == 0.0 && session.pending_frames() == pending - 2,
                  "pull(buffer, 2 frames) moves 2 of " + std::to_string(pending) + " pending frames");
        } else {
            fail("no frames pending after 0.5 s of audio");
        }
        session.reset();
        check(session.pending_frames() == 0, "reset() discards unpulled frames");
        session.flush();
        session.flush();
        check(session.pull().empty(), "flush without a push, twice, adds nothing");
    });

    // ---- Many sessions in one push ---------------------------------------------------------
    section("Session::push_many: many sessions in one call", [&] {
        // The tiny model: this section streams six sessions in 10 ms blocks, and the
        // valgrind run (KMTALK_VALGRIND=1) must stay short; the Swift tests batch kmtalk-base.
        kmtalk::Model model(kTiny);
        kmtalk::Audio audio(kHello, model.sample_rate());
        const kmtalk::FloatView hello = audio.samples();
        const float gains[3] = {1.0f, 0.5f, -0.8f};
        std::vector<std::vector<float>> tracks(3);
        for (int i = 0; i < 3; ++i) {
            for (float x : hello) tracks[i].push_back(x * gains[i]);
        }
        std::vector<kmtalk::Session> batch, single;
        for (int i = 0; i < 3; ++i) {
            batch.emplace_back(model, kmtalk::SessionOptions{1, 0.0f, false});
            single.emplace_back(model, kmtalk::SessionOptions{1, 0.0f, false});
        }
        std::vector<kmtalk::Session *> batch_ptrs = {&batch[0], &batch[1], &batch[2]};
        std::vector<std::vector<float>> batch_out(3), single_out(3);
        auto drain = [&] {
            for (int i = 0; i < 3; ++i) {
                const kmtalk::PulledFrames a = batch[i].pull(), b = single[i].pull();
                batch_out[i].insert(batch_out[i].end(), a.data.begin(), a.data.end());
                single_out[i].insert(single_out[i].end(), b.data.begin(), b.data.end());
            }
        };
        const std::size_t nan_block = 100;
        std::optional<kmtalk::PushManyError> nan_error;
        bool single_refused_nan = false;
        for (std::size_t start = 0, k = 0; start < hello.size; start += 160, ++k) {
            const std::size_t n = std::min<std::size_t>(160, hello.size - start);
            std::vector<std::vector<float>> copies;
            std::vector<kmtalk::FloatView> blocks;
            for (int i = 0; i < 3; ++i) blocks.emplace_back(tracks[i].data() + start, n);
            if (k == nan_block) {
                for (int i = 0; i < 3; ++i) copies.emplace_back(blocks[i].begin(), blocks[i].end());
                copies[1][7] = std::nanf("");
                for (int i = 0; i < 3; ++i) blocks[i] = copies[i];
                try {
                    kmtalk::Session::push_many(batch_ptrs, blocks, 16000);
                } catch (const kmtalk::PushManyError &e) {
                    nan_error = e;
                }
            } else {
                kmtalk::Session::push_many(batch_ptrs, blocks, 16000);
            }
            for (int i = 0; i < 3; ++i) {
                try {
                    single[i].push(blocks[i], 16000);
                } catch (const kmtalk::Error &e) {
                    single_refused_nan = k == nan_block && i == 1 && e.status() == KMT_ERR_INVALID_AUDIO;
                }
            }
            drain();
        }
        for (int i = 0; i < 3; ++i) {
            batch[i].flush();
            single[i].flush();
        }
        drain();
        check(nan_error && nan_error->status() == KMT_ERR_INVALID_AUDIO &&
                  nan_error->statuses() == std::vector<kmtalk::Status>{KMT_OK, KMT_ERR_INVALID_AUDIO, KMT_OK} &&
                  nan_error->message().find("sessions[1]") != std::string::npos &&
                  nan_error->context() == "kmt_sessions_push_f32",
              std::string("a NaN in block 1 throws PushManyError with statuses {OK, INVALID_AUDIO, OK}") +
                  (nan_error ? std::string(": ") + nan_error->what() : std::string(", nothing thrown")));
        check(single_refused_nan, "  ... as Session::push refuses that block alone");
        for (int i = 0; i < 3; ++i) {
            const float diff = max_abs_diff(batch_out[i], single_out[i]);
            check(batch_out[i].size() == single_out[i].size() && batch_out[i].size() == 243 * model.channel_count() &&
                      diff <= 1e-4f,
                  "tiny model, session " + std::to_string(i) + " (gain " + fmt(gains[i]) +
                      ", hello.wav in 10 ms blocks, default latency): push_many equals separate pushes (" +
                      std::to_string(batch_out[i].size() / model.channel_count()) + " frames, max diff " +
                      fmt(diff) + ")");
        }

        // int16 blocks, each session its own second of the synthetic signal.
        const auto quantized = quantize(signal);
        for (int i = 0; i < 3; ++i) {
            batch[i].reset();
            single[i].reset();
            batch_out[i].clear();
            single_out[i].clear();
        }
        const std::size_t offsets[3] = {0, 3000, 6000};
        for (std::size_t start = 0; start < 16000; start += 160) {
            std::vector<kmtalk::Int16View> blocks;
            for (int i = 0; i < 3; ++i) blocks.emplace_back(quantized.first.data() + offsets[i] + start, 160);
            kmtalk::Session::push_many(batch_ptrs, blocks, 16000);
            for (int i = 0; i < 3; ++i) single[i].push(blocks[i], 16000);
            drain();
        }
        float diff16 = 0.0f;
        bool same16 = true;
        for (int i = 0; i < 3; ++i) {
            batch[i].flush();
            single[i].flush();
        }
        drain();
        for (int i = 0; i < 3; ++i) {
            same16 = same16 && !batch_out[i].empty() && batch_out[i].size() == single_out[i].size();
            diff16 = std::max(diff16, max_abs_diff(batch_out[i], single_out[i]));
        }
        check(same16 && diff16 <= 1e-4f, "push_many(Int16View blocks): 3 sessions equal separate pushes (max diff " +
                                             fmt(diff16) + ")");

        // Refused arguments push nothing; an empty call does nothing.
        for (int i = 0; i < 3; ++i) batch[i].reset();
        const std::vector<float> block(160, 0.0f);
        std::vector<kmtalk::FloatView> two = {block, block}, three = {block, block, block};
        std::vector<kmtalk::Session *> twice = {&batch[0], &batch[0]};
        std::optional<kmtalk::PushManyError> twice_error;
        try {
            kmtalk::Session::push_many(twice, two, 16000);
        } catch (const kmtalk::PushManyError &e) {
            twice_error = e;
        }
        check(twice_error && twice_error->status() == KMT_ERR_INVALID_ARGUMENT &&
                  twice_error->statuses() == std::vector<kmtalk::Status>(2, KMT_ERR_INVALID_ARGUMENT) &&
                  twice_error->message().find("twice") != std::string::npos,
              std::string("push_many with a session listed twice throws PushManyError, INVALID_ARGUMENT for every "
                          "session") + (twice_error ? std::string(": ") + twice_error->what() : std::string()));
        batch[0].push(signal.data(), 441, 44100, 1);  // the utterance's rate is not fixed yet
        pass("  ... nothing was pushed (a push at another rate is accepted after it)");
        batch[0].reset();
        expect_error("push_many with 3 sessions and 2 blocks", KMT_ERR_INVALID_ARGUMENT,
                     [&] { kmtalk::Session::push_many(batch_ptrs, two, 16000); }, "3 sessions but 2 blocks");
        const std::vector<float> odd(161, 0.0f);
        std::vector<kmtalk::FloatView> partial = {block, odd, block};
        expect_error("push_many with a block of 161 samples in 2 channels", KMT_ERR_INVALID_ARGUMENT,
                     [&] { kmtalk::Session::push_many(batch_ptrs, partial, 16000, 2); }, "blocks[1]");
        kmtalk::Session empty;
        std::vector<kmtalk::Session *> with_empty = {&batch[0], &empty};
        expect_error("push_many with an empty Session", KMT_ERR_INVALID_ARGUMENT,
                     [&] { kmtalk::Session::push_many(with_empty, two, 16000); }, "sessions[1]");
        expect_error("push_many at 7999 Hz", KMT_ERR_INVALID_AUDIO,
                     [&] { kmtalk::Session::push_many(batch_ptrs, three, 7999); });
        kmtalk::Session::push_many(kmtalk::BasicView<kmtalk::Session *>(), kmtalk::BasicView<kmtalk::FloatView>(), 16000);
        pass("push_many of no sessions does nothing");
    });

    // ---- Rigs ------------------------------------------------------------------------------
    section("rig and posing", [&] {
        kmtalk::Rig rig(kRig);
        const auto bytes = read_bytes(kRig);
        kmtalk::Rig from_memory(bytes.data(), bytes.size());
        const std::size_t v = rig.vertex_count(), f = rig.face_count(), s = rig.shape_count();
        const auto shapes = rig.shape_names();
        check(v > 0 && f > 0 && s >= 52 && shapes.size() == s && contains(shapes, "jawOpen"),
              "head rig: " + std::to_string(v) + " vertices, " + std::to_string(f) + " faces, " +
                  std::to_string(s) + " shapes incl. jawOpen");
        check(from_memory.vertex_count() == v && from_memory.face_count() == f && from_memory.shape_names() == shapes,
              "Rig(data, size) loads the same rig from memory");
        const auto units = rig.metadata("units");
        check(units && *units == "m" && !rig.metadata("no-such-key"), "rig metadata(units) = m, missing key -> nullopt");
        const std::vector<float> neutral = rig.vertices();
        const std::vector<std::int32_t> faces = rig.faces();
        check(neutral.size() == 3 * v && all_finite(neutral) && faces.size() == 3 * f &&
                  std::all_of(faces.begin(), faces.end(),
                              [v](std::int32_t i) { return i >= 0 && static_cast<std::size_t>(i) < v; }),
              "rig.vertices() is V x 3 finite floats, rig.faces() F x 3 indices below V");
        {
            const std::size_t jaw = static_cast<std::size_t>(
                std::find(shapes.begin(), shapes.end(), "jawOpen") - shapes.begin());
            const std::vector<float> deltas = rig.deltas(jaw);
            float largest = 0.0f;
            for (float d : deltas) largest = std::max(largest, std::fabs(d));
            check(deltas.size() == 3 * v && all_finite(deltas) && largest > 1e-3f,
                  "rig.deltas(jawOpen) is V x 3 finite floats that move the mesh (largest " +
                      std::to_string(largest) + ")");
            expect_error("deltas(shape count)", KMT_ERR_INVALID_ARGUMENT, [&] { rig.deltas(s); });
        }

        kmtalk::Model model(kBase);
        kmtalk::Session session(model);
        kmtalk::Animation anim = session.animate_file(kHello);
        const std::vector<float> absolute = anim.vertices(rig, 0, 2);
        const std::vector<float> offsets = anim.vertices(&rig, 0, 2, KMT_VERTICES_OFFSETS);
        check(absolute.size() == 2 * v * 3 && offsets.size() == absolute.size() && all_finite(absolute),
              "vertices(rig, 0, 2) poses 2 frames x V x 3 (" + std::to_string(absolute.size()) + " floats)");
        float worst = 0.0f, moved = 0.0f;
        for (std::size_t i = 0; i < absolute.size(); ++i) {
            worst = std::max(worst, std::fabs(absolute[i] - offsets[i] - neutral[i % (3 * v)]));
        }
        // A frame with the jaw open moves vertices.
        const std::vector<float> frames = anim.frames();
        const auto names = anim.channel_names();
        const std::size_t jaw = static_cast<std::size_t>(std::find(names.begin(), names.end(), "jawOpen") - names.begin());
        std::size_t open = 0;
        for (std::size_t i = 0; i < anim.frame_count(); ++i) {
            if (frames[i * names.size() + jaw] > frames[open * names.size() + jaw]) open = i;
        }
        const std::vector<float> open_offsets = anim.vertices(rig, open, 1, KMT_VERTICES_OFFSETS);
        for (float x : open_offsets) moved = std::max(moved, std::fabs(x));
        check(worst < 1e-5f && moved > 1e-4f,
              "absolute = neutral + offsets (max error " + fmt(worst) + "), frame " + std::to_string(open) +
                  " (jaw most open) moves a vertex by " + fmt(moved * 1000) + " mm");
        std::vector<float> buffer(3 * v);
        check(anim.vertices(&rig, open, 1, KMT_VERTICES_OFFSETS, buffer.data(), buffer.size()) == buffer.size() &&
                  buffer == open_offsets,
              "vertices(rig, ..., buffer, length) writes the same floats");
        expect_error("vertices into a too-small buffer", KMT_ERR_BUFFER_TOO_SMALL,
                     [&] { anim.vertices(&rig, 0, 2, KMT_VERTICES_ABSOLUTE, buffer.data(), buffer.size()); });
        expect_error("vertices of a weights animation without a rig", KMT_ERR_INVALID_ARGUMENT,
                     [&] { anim.vertices(nullptr, 0, 1); }, "rig");
        expect_error("vertices past the end", KMT_ERR_INVALID_ARGUMENT,
                     [&] { anim.vertices(rig, anim.frame_count(), 1); });
        check(anim.vertex_count() == 0, "a weights animation has vertex_count() 0");
        expect_error("faces() of a weights animation", KMT_ERR_INVALID_ARGUMENT, [&] { anim.faces(); });

        const std::vector<std::int32_t> matching = rig.shape_channels(anim);
        const auto unmatched_shapes = rig.unmatched_shapes(anim);
        const auto unmatched_channels = rig.unmatched_channels(anim);
        std::size_t driven = 0;
        for (std::int32_t c : matching) driven += c >= 0;
        const std::size_t jaw_shape = static_cast<std::size_t>(std::find(shapes.begin(), shapes.end(), "jawOpen") - shapes.begin());
        check(matching.size() == s && driven + unmatched_shapes.size() == s &&
                  matching[jaw_shape] == static_cast<std::int32_t>(jaw),
              "shape_channels: " + std::to_string(driven) + " of " + std::to_string(s) +
                  " shapes driven, jawOpen -> channel jawOpen; " + std::to_string(unmatched_shapes.size()) +
                  " unmatched shapes, " + std::to_string(unmatched_channels.size()) + " unmatched channels");
    });

    // ---- Exports ---------------------------------------------------------------------------
    section("exports", [&] {
        kmtalk::Model model(kTiny);
        kmtalk::Session session(model);
        kmtalk::Animation anim = session.animate_file(kHello);
        kmtalk::Rig rig(kRig);
        struct Case {
            const char *file;
            kmtalk::ExportFormat format;
            bool with_rig;
        };
        for (const Case &c : {Case{"out.json", KMT_EXPORT_JSON, false}, Case{"out.csv", KMT_EXPORT_CSV, false},
                              Case{"out.glb", KMT_EXPORT_GLB, true}}) {
            const fs::path path = tmp / c.file;
            if (c.with_rig) {
                anim.save(path.string(), KMT_EXPORT_AUTO, rig);
            } else {
                anim.save(path.string());
            }
            const auto on_disk = read_bytes(path);
            const auto in_memory = anim.save_to_memory(c.format, c.with_rig ? &rig : nullptr);
            check(!on_disk.empty() && on_disk == in_memory,
                  std::string("save(") + c.file + ") writes " + std::to_string(on_disk.size()) +
                      " bytes, save_to_memory gives the same bytes");
        }
        // Into the user's own GLB: the one just written gains a first animation "speech 2".
        anim.save_into((tmp / "out.glb").string(), (tmp / "talking.glb").string());
        const auto talking = read_bytes(tmp / "talking.glb");
        const std::string talking_json(talking.begin() + 20, talking.begin() + 20 + (talking[12] | talking[13] << 8 | talking[14] << 16));
        check(talking.size() > read_bytes(tmp / "out.glb").size() &&
                  talking_json.find(R"("animations":[{"name":"speech 2")") != std::string::npos,
              "save_into: the asset with a \"speech 2\" animation first (" + std::to_string(talking.size()) + " bytes)");
        expect_error("save_into a file that is not GLB", KMT_ERR_UNSUPPORTED_FORMAT,
                     [&] { anim.save_into((tmp / "out.json").string(), (tmp / "x.glb").string()); }, "GLB");
        const auto json = anim.save_to_memory(KMT_EXPORT_JSON);
        const auto csv = anim.save_to_memory(KMT_EXPORT_CSV);
        const auto glb = anim.save_to_memory(KMT_EXPORT_GLB, rig);
        const auto sparse = anim.save_to_memory(KMT_EXPORT_GLB_SPARSE, &rig);
        const auto cues = anim.save_to_memory(KMT_EXPORT_MOUTH_CUES_TSV);
        check(!json.empty() && json.front() == '{', "JSON in memory starts with '{' (" + std::to_string(json.size()) + " bytes)");
        check(csv.size() > 5 && std::string(csv.begin(), csv.begin() + 5) == "time,",
              "CSV in memory starts with 'time,' (" + std::to_string(csv.size()) + " bytes)");
        check(glb.size() > 4 && std::string(glb.begin(), glb.begin() + 4) == "glTF",
              "GLB in memory starts with 'glTF' (" + std::to_string(glb.size()) + " bytes)");
        check(sparse.size() > 4 && std::string(sparse.begin(), sparse.begin() + 4) == "glTF" && sparse.size() < glb.size(),
              "sparse GLB is a smaller glTF (" + std::to_string(sparse.size()) + " bytes)");
        check(!cues.empty(), "mouth cues TSV in memory (" + std::to_string(cues.size()) + " bytes)");

        expect_error("GLB without a rig", KMT_ERR_INVALID_ARGUMENT,
                     [&] { anim.save((tmp / "norig.glb").string()); }, "needs a rig");
        check(!fs::exists(tmp / "norig.glb"), "a failed save leaves no file");
        expect_error("GLB to memory without a rig", KMT_ERR_INVALID_ARGUMENT,
                     [&] { anim.save_to_memory(KMT_EXPORT_GLB); }, "needs a rig");
        expect_error("save_to_memory(AUTO)", KMT_ERR_INVALID_ARGUMENT, [&] { anim.save_to_memory(KMT_EXPORT_AUTO); });
        const std::string missing_dir = (tmp / "no-such-dir" / "out.json").string();
        expect_error("save into a missing directory", KMT_ERR_IO, [&] { anim.save(missing_dir); }, "no-such-dir");
    });

    // ---- Progress, cancellation and the mouth cues' extended shapes ---------------------------
    section("progress and cancel", [&] {
        kmtalk::Model model(kTiny);
        std::vector<float> fractions;
        kmtalk::Session session(model, {1, 0.0f, false}, [&](float fraction, const char *) {
            fractions.push_back(fraction);
            return true;
        });
        kmtalk::Animation anim = session.animate_file(kHello);
        check(!fractions.empty() && fractions.back() == 1.0f && std::is_sorted(fractions.begin(), fractions.end()),
              "Session progress: " + std::to_string(fractions.size()) + " reports, monotonic, ending at 1");
        kmtalk::Session stopping(model, {1, 0.0f, false}, [](float fraction, const char *) { return fraction < 0.5f; });
        expect_error("progress returning false cancels animate_file", KMT_ERR_CANCELLED,
                     [&] { stopping.animate_file(kHello); }, "cancelled by the progress callback");
        kmtalk::Session throwing(model, {1, 0.0f, false},
                                 [](float, const char *) -> bool { throw std::runtime_error("host says stop"); });
        bool rethrown = false;
        try {
            throwing.animate_file(kHello);
        } catch (const std::runtime_error &e) {
            rethrown = std::string(e.what()) == "host says stop";
        }
        check(rethrown, "an exception in the progress function cancels and is rethrown");

        kmtalk::Rig rig(kRig);
        const fs::path sequence = tmp / "seq";
        fs::create_directories(sequence);
        kmtalk::Animation::ExportOptions cancel;
        cancel.progress = [](float fraction, const char *stage) { return fraction < 0.5f && std::string(stage) == "export"; };
        expect_error("a cancelled OBJ sequence", KMT_ERR_CANCELLED,
                     [&] { anim.save((sequence / "face.obj").string(), KMT_EXPORT_OBJ, &rig, cancel); }, "nothing was written");
        check(fs::is_empty(sequence), "a cancelled sequence leaves no file");

        kmtalk::Animation::ExportOptions basic;
        basic.mouth_cue_extended_shapes = "";
        const auto cues = anim.save_to_memory(KMT_EXPORT_MOUTH_CUES_TSV, nullptr, basic);
        const std::string text(cues.begin(), cues.end());
        check(!text.empty() && text.find('X') == std::string::npos && text.find('G') == std::string::npos &&
                  text.find('H') == std::string::npos,
              "extended shapes \"\": only A-F in the TSV");
        kmtalk::Animation::ExportOptions bad;
        bad.mouth_cue_extended_shapes = "GQ";
        expect_error("extended shapes \"GQ\"", KMT_ERR_INVALID_ARGUMENT,
                     [&] { anim.save((tmp / "bad.tsv").string(), KMT_EXPORT_AUTO, nullptr, bad); }, "'Q'");
        check(kmtalk::status_name(KMT_ERR_CANCELLED) == "KMT_ERR_CANCELLED", "status_name(KMT_ERR_CANCELLED)");
    });

    // ---- Errors ------------------------------------------------------------------------------
    section("errors", [&] {
        const std::string missing_model = (tmp / "no-such-model.safetensors").string();
        const std::string missing_audio = (tmp / "no-such-speech.wav").string();
        const std::string missing_rig = (tmp / "no-such.rig.safetensors").string();
        auto e = expect_error("missing model file", KMT_ERR_IO, [&] { kmtalk::Model m(missing_model); }, missing_model);
        if (e) {
            check(e->context() == "kmt_model_load_file" &&
                      std::string(e->what()).find(missing_model) != std::string::npos &&
                      e->message() == kmt_last_error(),
                  "Error: context() names the C function, what() the path, kmt_last_error() still holds message()");
        }
        kmtalk::Model model(kTiny);
        kmtalk::Session session(model);
        expect_error("missing audio file", KMT_ERR_IO, [&] { session.animate_file(missing_audio); }, missing_audio);
        expect_error("missing rig file", KMT_ERR_IO, [&] { kmtalk::Rig r(missing_rig); }, missing_rig);
        expect_error("a rig loaded as a model", KMT_ERR_UNSUPPORTED_FORMAT, [&] { kmtalk::Model m(kRig); });
        expect_error("a model loaded as a rig", KMT_ERR_UNSUPPORTED_FORMAT, [&] { kmtalk::Rig r(kTiny); });
        const unsigned char junk[16] = {1, 2, 3};
        expect_error("a model from 16 junk bytes", KMT_ERR_CORRUPT_MODEL, [&] { kmtalk::Model m(junk, sizeof junk); });
        expect_error("animate_pcm with channels 0 (pointer)", KMT_ERR_INVALID_ARGUMENT,
                     [&] { session.animate_pcm(signal.data(), 1600, 16000, 0); }, "channels");
        expect_error("animate_pcm with channels 0 (view)", KMT_ERR_INVALID_ARGUMENT,
                     [&] { session.animate_pcm(signal, 16000, 0); }, "channels");
        expect_error("animate_pcm with 7 samples of 2 channels (wrapper check)", KMT_ERR_INVALID_ARGUMENT,
                     [&] { session.animate_pcm(kmtalk::FloatView(signal.data(), 7), 16000, 2); }, "whole number");
        expect_error("animate_pcm at 1000 Hz", KMT_ERR_INVALID_AUDIO, [&] { session.animate_pcm(signal, 1000); });
        std::vector<float> bad(signal.begin(), signal.begin() + 16000);
        bad[123] = std::nanf("");
        expect_error("a NaN sample is rejected by default", KMT_ERR_INVALID_AUDIO, [&] { session.animate_pcm(bad, 16000); });
        kmtalk::Session lenient(model, {0, 0.0f, true});
        const std::size_t lenient_frames = lenient.animate_pcm(bad, 16000).frame_count();
        check(near_count(lenient_frames, 50), "replace_nonfinite = true animates it (" +
                                                  std::to_string(lenient_frames) + " frames for 1 s)");
        expect_error("push with channels 0", KMT_ERR_INVALID_ARGUMENT,
                     [&] { session.push(signal.data(), 160, 16000, 0); }, "channels");
        expect_error("output_fps 500", KMT_ERR_INVALID_ARGUMENT,
                     [&] { kmtalk::Session s(model, {0, 500.0f, false}); }, "output_fps");

        // kmt_last_error() is per thread: an error on another thread has its own message.
        std::string other_message;
        kmt_status other_status = KMT_OK;
        std::thread([&] {
            try {
                kmtalk::Rig r(missing_rig);
            } catch (const kmtalk::Error &err) {
                other_message = err.message();
                other_status = err.status();
            }
        }).join();
        try {
            kmtalk::Model m(missing_model);
        } catch (const kmtalk::Error &) {
        }
        check(other_status == KMT_ERR_IO && other_message.find(missing_rig) != std::string::npos &&
                  std::string(kmt_last_error()).find(missing_model) != std::string::npos,
              "an Error on another thread carries that thread's message");
        const kmtalk::Error made(KMT_ERR_INTERNAL, "detail");
        check(std::string(made.what()) == "KMT_ERR_INTERNAL: detail" && made.context().empty(),
              "Error constructed by hand: what() = \"" + std::string(made.what()) + "\"");
    });

    // ---- Ownership, moves, lifetimes, threads -------------------------------------------------
    section("ownership and moves", [&] {
        kmtalk::Model a(kTiny);
        kmt_model *raw = a.get();
        kmtalk::Model b(std::move(a));
        check(!a && a.get() == nullptr && b.get() == raw, "a moved-from Model is empty; the handle moved");
        expect_error("channel_count of an empty Model", KMT_ERR_INVALID_ARGUMENT, [&] { a.channel_count(); },
                     "model is NULL");
        expect_error("architecture of an empty Model", KMT_ERR_INVALID_ARGUMENT, [&] { a.architecture(); });
        expect_error("channel_names of an empty Model", KMT_ERR_INVALID_ARGUMENT, [&] { a.channel_names(); });
        expect_error("fps of an empty Model", KMT_ERR_INVALID_ARGUMENT, [&] { a.fps(); });
        expect_error("metadata of an empty Model", KMT_ERR_INVALID_ARGUMENT, [&] { a.metadata("format"); });
        expect_error("a Session on an empty Model", KMT_ERR_INVALID_ARGUMENT, [&] { kmtalk::Session s(a); });
        kmtalk::Model c(kBase);
        c = std::move(b);  // frees the base model, takes the tiny one
        check(c.get() == raw && !b, "move assignment replaces (and frees) the old model");
        kmtalk::Model &alias = c;
        c = std::move(alias);
        check(c.get() == raw && c.channel_count() == 52, "self-move-assignment keeps the model");
        kmtalk::Model adopted = kmtalk::Model::adopt(c.release());
        check(!c && adopted.get() == raw, "release() / adopt() hand the handle over");

        kmtalk::Session s1(adopted);
        kmtalk::Session s2 = std::move(s1);
        check(!s1 && s1.channel_count() == 0 && s2.channel_count() == 52,
              "a moved-from Session is empty: channel_count 0");
        expect_error("latency_ms of a moved-from Session", KMT_ERR_INVALID_ARGUMENT, [&] { s1.latency_ms(); },
                     "session is NULL");
        expect_error("output_fps of a moved-from Session", KMT_ERR_INVALID_ARGUMENT, [&] { s1.output_fps(); });
        expect_error("push on a moved-from Session", KMT_ERR_INVALID_ARGUMENT, [&] { s1.push(signal.data(), 160, 16000); });
        expect_error("pull on a moved-from Session", KMT_ERR_INVALID_ARGUMENT, [&] { s1.pull(); });
        expect_error("animate_file on a moved-from Session", KMT_ERR_INVALID_ARGUMENT, [&] { s1.animate_file(kHello); });
        kmtalk::Session s3(adopted);
        s3 = std::move(s2);
        check(static_cast<bool>(s3) && !s2 && s3.channel_count() == 52, "Session move assignment");

        kmtalk::Animation x = s3.animate_pcm(signal, 16000);
        kmtalk::Animation y(std::move(x));
        check(!x && near_count(y.frame_count(), 80), "a moved-from Animation is empty, the other holds the frames");
        expect_error("frame_count of a moved-from Animation", KMT_ERR_INVALID_ARGUMENT, [&] { x.frame_count(); },
                     "animation is NULL");
        expect_error("frames() of a moved-from Animation", KMT_ERR_INVALID_ARGUMENT, [&] { x.frames(); });
        expect_error("channel_names of a moved-from Animation", KMT_ERR_INVALID_ARGUMENT,
                     [&] { x.channel_names(); });
        expect_error("channel_name(index out of range)", KMT_ERR_INVALID_ARGUMENT,
                     [&] { y.channel_name(y.channel_count()); }, "is not below the channel count");
        expect_error("save of a moved-from Animation", KMT_ERR_INVALID_ARGUMENT,
                     [&] { x.save((tmp / "empty.json").string()); });

        kmtalk::Rig r1(kRig);
        kmtalk::Rig r2(std::move(r1));
        check(!r1 && r2.vertex_count() > 0, "a moved-from Rig is empty");
        expect_error("vertex_count of a moved-from Rig", KMT_ERR_INVALID_ARGUMENT, [&] { r1.vertex_count(); },
                     "rig is NULL");
        expect_error("shape_names of a moved-from Rig", KMT_ERR_INVALID_ARGUMENT, [&] { r1.shape_names(); });
        expect_error("shape_name(index out of range)", KMT_ERR_INVALID_ARGUMENT,
                     [&] { r2.shape_name(r2.shape_count()); }, "is not below the shape count");
        expect_error("vertices() of a moved-from Rig", KMT_ERR_INVALID_ARGUMENT, [&] { r1.vertices(); });
        expect_error("posing with a moved-from Rig", KMT_ERR_INVALID_ARGUMENT, [&] { y.vertices(r1, 0, 1); });

        kmtalk::Model default_model;
        kmtalk::Session default_session;
        kmtalk::Animation default_animation;
        kmtalk::Rig default_rig;
        check(!default_model && !default_session && !default_animation && !default_rig,
              "default-constructed objects are empty and destroy cleanly");
    });

    section("lifetimes", [&] {
        kmtalk::Session session;
        {
            kmtalk::Model model(kTiny);
            session = kmtalk::Session(model);
        }  // the Model object is gone; the session keeps the model alive
        kmtalk::Animation anim = session.animate_pcm(signal, 16000);
        check(near_count(anim.frame_count(), 80) && anim.channel_count() == 52,
              "a Session works after its Model object is destroyed (the session keeps its model)");
        kmtalk::Animation survivor;
        {
            kmtalk::Model model(kTiny);
            kmtalk::Session s(model);
            survivor = s.animate_file(kHello);
        }
        const auto frames = survivor.frames();
        check(survivor.frame_count() > 200 && frames.size() == survivor.frame_count() * 52 && all_finite(frames) &&
                  survivor.channel_name(0) == "eyeBlinkLeft",
              "an Animation outlives its Session and Model (frames and names still readable)");
    });

    section("threads", [&] {
        const kmtalk::Model model(kTiny);
        std::vector<std::vector<float>> results(3);
        std::vector<std::string> errors(3);
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < results.size(); ++i) {
            threads.emplace_back([&, i] {
                try {
                    kmtalk::Session session(model, {1, 0.0f, false});
                    results[i] = session.animate_pcm(signal, 16000).frames();
                } catch (const std::exception &e) {
                    errors[i] = e.what();
                }
            });
        }
        for (auto &t : threads) t.join();
        bool same = !results[0].empty();
        for (std::size_t i = 0; i < results.size(); ++i) same = same && errors[i].empty() && results[i] == results[0];
        check(same, "3 threads, one shared Model, one Session each: identical animations");
    });

    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "test_kmtalk: " << passes << " passed, " << failures << " failed in " << fmt(seconds) << " s"
              << std::endl;
    return failures == 0 ? 0 : 1;
}
