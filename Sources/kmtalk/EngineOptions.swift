import ArgumentParser

/// The options every command that runs the model shares (`animate`, `stream`, `preview`,
/// `view`), declared once so their names, defaults and help stay the same everywhere.
struct EngineOptions: ParsableArguments {
    @Option(help: "Model file (default: $KMTALK_MODEL or the shipped model).")
    var model: String?

    @Option(help: "Threads (0 or 1: one; N > 1: a long file's rows are split over N threads, same results).")
    var threads: Int = 0
}
