import Testing

@testable import kmtalk

/// `kmtalk bench --streams`, `--stream-threads` and `--stream-latency`: what they accept and refuse; the
/// model options every model-running command shares (`EngineOptions`).
@Suite struct BenchOptionsTests {
    @Test func everyModelCommandTakesTheSameEngineOptions() throws {
        let given = ["--model", "m.safetensors", "--threads", "2"]
        let parsed: [EngineOptions] = [
            try Animate.parse(["a.wav", "-o", "out.json"] + given).engine,
            try ViewCommand.parse(["a.wav", "-o", "talk.html"] + given).engine,
            try PreviewCommand.parse(["a.wav", "-o", "out.mp4"] + given).engine,
            try StreamCommand.parse(["a.wav", "--livelink", "127.0.0.1:11111"] + given).engine,
        ]
        for options in parsed {
            #expect(options.model == "m.safetensors" && options.threads == 2)
        }
        let defaults = try Animate.parse(["a.wav", "-o", "out.json"]).engine
        #expect(defaults.model == nil && defaults.threads == 0)
    }

    @Test func streamCounts() throws {
        #expect(try Bench.parse([]).parsedStreamCounts() == nil)
        #expect(try Bench.parse(["--streams", "auto"]).parsedStreamCounts() == [])
        #expect(try Bench.parse(["--streams", "AUTO"]).parsedStreamCounts() == [])
        #expect(try Bench.parse(["--streams", "8, 16,32"]).parsedStreamCounts() == [8, 16, 32])
        for bad in ["0", "8,x", "", "2000", "-1"] {
            #expect(throws: (any Error).self, "\(bad)") { try Bench.parse(["--streams", bad]).parsedStreamCounts() }
        }
    }

    @Test func streamThreads() throws {
        #expect(try Bench.parse([]).streamThreads == 1)
        #expect(try Bench.parse(["--stream-threads", "2"]).streamThreads == 2)
        for bad in ["0", "-1", "65", "two"] {
            #expect(throws: (any Error).self, "\(bad)") { try Bench.parse(["--stream-threads", bad]) }
        }
    }

    @Test func streamLatency() throws {
        #expect(try Bench.parse([]).parsedStreamLatency() == nil)
        #expect(try Bench.parse(["--stream-latency", "exact"]).parsedStreamLatency() == .infinity)
        #expect(try Bench.parse(["--stream-latency", "150"]).parsedStreamLatency() == 150)
        for bad in ["0", "-5", "nan", "inf", "soon"] {
            #expect(throws: (any Error).self, "\(bad)") { try Bench.parse(["--stream-latency", bad]).parsedStreamLatency() }
        }
    }
}
