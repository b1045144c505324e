// A C++17 host of KMTalk through its header-only wrapper (kmtalk.hpp, shipped beside
// kmtalk.h), built with find_package(KMTalk) or pkg-config: animates an audio file and
// prints the frame count and the frame where jawOpen is largest.
//
//     kmtalk_hello_cpp MODEL AUDIO
#include <cstdio>
#include <string>
#include <vector>

#include "kmtalk.hpp"

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: kmtalk_hello_cpp MODEL AUDIO\n");
        return 2;
    }
    try {
        kmtalk::Model model(argv[1]);
        kmtalk::Session session(model);
        kmtalk::Animation animation = session.animate_file(argv[2]);
        const std::vector<std::string> names = animation.channel_names();
        const std::vector<float> values = animation.frames();
        std::size_t jaw = names.size();
        for (std::size_t c = 0; c < names.size(); ++c) {
            if (names[c] == "jawOpen") jaw = c;
        }
        if (jaw == names.size()) {
            std::fprintf(stderr, "the model has no jawOpen channel\n");
            return 1;
        }
        const std::size_t channels = names.size();
        std::size_t best = 0;
        for (std::size_t f = 1; f < animation.frame_count(); ++f) {
            if (values[f * channels + jaw] > values[best * channels + jaw]) best = f;
        }
        std::printf("kmtalk %s: %zu frames x %zu channels at %.0f fps; jawOpen largest at frame %zu (%.3f)\n",
                    kmt_version(), animation.frame_count(), channels, static_cast<double>(animation.fps()), best,
                    static_cast<double>(values[best * channels + jaw]));
        return 0;
    } catch (const kmtalk::Error &error) {
        std::fprintf(stderr, "%s\n", error.what());
        return 1;
    }
}
