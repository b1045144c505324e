import Foundation
import Testing

@testable import KMTalkEngine

/// The speculative run of a reduced-latency stream stops at the frames that are due
/// (`StreamingNetwork.advance(ended:limit:)`): its frames must be those of the run to the
/// end, for every model kind, at every cut of the audio and for limits before, inside and
/// past the frames that exist.
@Suite struct SpeculationLimitTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: StreamingTests.basePath)), arguments: StreamingTests.modelPaths)
    func limitedSpeculationMatchesTheFullRun(path: String) throws {
        let (samples, _) = try StreamingTests.hello()
        let model = try KMTalkModel(path: path)
        for cut in [4_000, 9_600, 17_280, samples.count - 1_000] where cut < samples.count {
            let network = try StreamingNetwork(model: model)
            network.append(Array(samples[0..<cut]))
            _ = try network.advance(ended: false)
            let first = network.emitted
            let full = try network.copy().advance(ended: true)
            let total = first + (full?.shape[0] ?? 0)
            for limit in [first - 1, first, first + 1, first + 4, (first + total) / 2, total, total + 3] {
                let limited = try network.copy().advance(ended: true, limit: limit)
                let expected = max(0, min(limit, total) - first)
                #expect((limited?.shape[0] ?? 0) == expected, "\(path) cut \(cut) limit \(limit)")
                guard let limited, let full, expected > 0 else { continue }
                let channels = full.shape[1]
                var worst: Float = 0
                for i in 0..<(expected * channels) { worst = max(worst, abs(limited.data[i] - full.data[i])) }
                #expect(worst < 1e-5, "\(path) cut \(cut) limit \(limit): max diff \(worst)")
            }
        }
    }

    /// Speculation runs on the network itself between `checkpoint()` and `rollback(to:)`:
    /// its frames must be those of the same run on a copy, bit for bit, and the stream
    /// must go on exactly as a twin that never speculated, for every model kind.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: StreamingTests.basePath)), arguments: StreamingTests.modelPaths)
    func inPlaceSpeculationRollsBack(path: String) throws {
        let (samples, _) = try StreamingTests.hello()
        let model = try KMTalkModel(path: path)
        let network = try StreamingNetwork(model: model), twin = try StreamingNetwork(model: model)
        network.collectedPosteriors = []
        twin.collectedPosteriors = []
        var speculated = 0
        for start in stride(from: 0, to: samples.count, by: 1_117) {
            let block = Array(samples[start..<min(start + 1_117, samples.count)])
            network.append(block)
            twin.append(block)
            let exact = try network.advance(ended: false), twinExact = try twin.advance(ended: false)
            #expect(exact?.data == twinExact?.data, "\(path) at \(start)")
            for (limit, from) in [(network.emitted + 3, network.emitted), (network.emitted + 9, network.emitted + 2), (Int.max / 2, network.emitted)] {
                let onCopy = try network.copy().advance(ended: true, limit: limit, from: from)
                let checkpoint = network.checkpoint()
                let inPlace = try network.advance(ended: true, limit: limit, from: from)
                network.rollback(to: checkpoint)
                #expect(inPlace?.data == onCopy?.data, "\(path) at \(start), limit \(limit)")
                speculated += inPlace?.shape[0] ?? 0
            }
            #expect(network.heldRows == twin.heldRows && network.samples.count == twin.samples.count)
        }
        #expect(speculated > 0)
        let rest = try network.advance(ended: true), twinRest = try twin.advance(ended: true)
        #expect(rest?.data == twinRest?.data && network.emitted == twin.emitted)
        // The speculative runs collected no phone posteriors.
        #expect(network.collectedPosteriors == twin.collectedPosteriors)
    }
}
