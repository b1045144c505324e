import Testing

@testable import kmtalk

/// `kmtalk bench --streams` and `--stream-latency`: what they accept and refuse.
@Suite struct BenchOptionsTests {
    @Test func streamCounts() throws {
        #expect(try Bench.parse([]).parsedStreamCounts() == nil)
        #expect(try Bench.parse(["--streams", "auto"]).parsedStreamCounts() == [])
        #expect(try Bench.parse(["--streams", "AUTO"]).parsedStreamCounts() == [])
        #expect(try Bench.parse(["--streams", "8, 16,32"]).parsedStreamCounts() == [8, 16, 32])
        for bad in ["0", "8,x", "", "2000", "-1"] {
            #expect(throws: (any Error).self, "\(bad)") { try Bench.parse(["--streams", bad]).parsedStreamCounts() }
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
