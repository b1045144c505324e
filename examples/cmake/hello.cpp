// A C++17 host of the KMTalk C API, built through find_package(KMTalk): animates an
// audio file and prints the frame count and the frame where jawOpen is largest.
//
//     kmtalk_hello_cpp MODEL AUDIO
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "kmtalk.h"

namespace {
template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *handle) const { Free(handle); }
};
using Model = std::unique_ptr<kmt_model, Deleter<kmt_model, kmt_model_free>>;
using Session = std::unique_ptr<kmt_session, Deleter<kmt_session, kmt_session_free>>;
using Animation = std::unique_ptr<kmt_animation, Deleter<kmt_animation, kmt_animation_free>>;

int fail(const char *what) {
    std::fprintf(stderr, "%s failed: %s\n", what, kmt_last_error());
    return 1;
}
}  // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: kmtalk_hello_cpp MODEL AUDIO\n");
        return 2;
    }
    kmt_model *model_handle = nullptr;
    if (kmt_model_load_file(argv[1], nullptr, &model_handle) != KMT_OK) return fail("kmt_model_load_file");
    Model model(model_handle);
    kmt_session *session_handle = nullptr;
    if (kmt_session_create(model.get(), nullptr, &session_handle) != KMT_OK) return fail("kmt_session_create");
    Session session(session_handle);
    kmt_animation *animation_handle = nullptr;
    if (kmt_animate_file(session.get(), argv[2], &animation_handle) != KMT_OK) return fail("kmt_animate_file");
    Animation animation(animation_handle);

    const size_t frames = kmt_animation_frame_count(animation.get());
    const size_t channels = kmt_animation_channel_count(animation.get());
    std::vector<float> values(frames * channels);
    if (kmt_animation_read_frames(animation.get(), 0, frames, values.data(), values.size(), nullptr) != KMT_OK) {
        return fail("kmt_animation_read_frames");
    }
    size_t jaw = channels;
    for (size_t c = 0; c < channels; ++c) {
        if (std::string(kmt_animation_channel_name(animation.get(), c)) == "jawOpen") jaw = c;
    }
    if (jaw == channels) return fail("finding jawOpen");
    size_t best = 0;
    for (size_t f = 1; f < frames; ++f) {
        if (values[f * channels + jaw] > values[best * channels + jaw]) best = f;
    }
    std::printf("kmtalk %s: %zu frames x %zu channels at %.0f fps; jawOpen largest at frame %zu (%.3f)\n",
                kmt_version(), frames, channels, static_cast<double>(kmt_animation_fps(animation.get())), best,
                static_cast<double>(values[best * channels + jaw]));
    return 0;
}
