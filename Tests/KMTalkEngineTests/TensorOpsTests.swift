import Glibc
import Testing

@testable import KMTalkEngine

/// Every tensor op against the NumPy reference (training/kmtalk_ref/ops.py), max abs
/// error < 1e-4.
@Suite struct TensorOpsTests {
    let golden: SafeTensorsFile

    init() throws { golden = try Fixtures.golden("ops_golden.safetensors") }

    @Test func linearWithAndWithoutBias() throws {
        let x = try golden.tensor("linear.x"), w = try golden.tensor("linear.w"), b = try golden.tensor("linear.b")
        expectClose(linear(x, weight: w, bias: b), try golden.tensor("linear.y"), "linear")
        expectClose(linear(x, weight: w), try golden.tensor("linear.y_nobias"), "linear no bias")
    }

    @Test(arguments: [
        ("conv_a", Conv1DGeometry(stride: 1, padding: 1)),
        ("conv_b", Conv1DGeometry(stride: 2, padding: 1)),
        ("conv_c", Conv1DGeometry(stride: 3, padding: 2, dilation: 2)),
        ("conv_d", Conv1DGeometry(stride: 1, padding: 0)),
    ])
    func conv1dMatchesReference(name: String, geometry: Conv1DGeometry) throws {
        let y = conv1d(
            try golden.tensor("\(name).x"), weight: try golden.tensor("\(name).w"),
            bias: try golden.tensor("\(name).b"), geometry: geometry)
        expectClose(y, try golden.tensor("\(name).y"), name)
    }

    @Test func layerNormMatchesReference() throws {
        let y = layerNorm(
            try golden.tensor("layernorm.x"), gamma: try golden.tensor("layernorm.g"),
            beta: try golden.tensor("layernorm.b"), epsilon: 1e-5)
        expectClose(y, try golden.tensor("layernorm.y"), "layer norm")
    }

    @Test func activationsMatchReference() throws {
        let x = try golden.tensor("act.x")
        expectClose(gelu(x), try golden.tensor("gelu.y"), "gelu")
        expectClose(silu(x), try golden.tensor("silu.y"), "silu")
        expectClose(sigmoid(x), try golden.tensor("sigmoid.y"), "sigmoid")
        expectClose(softmax(try golden.tensor("softmax.x")), try golden.tensor("softmax.y"), "softmax")
    }

    @Test func softmaxRowsSumToOneAndMaskedEntriesVanish() {
        let x = Tensor(shape: [2, 3], data: [1, -.infinity, 2, -.infinity, -.infinity, -.infinity])
        let y = softmax(x)
        #expect(abs(y.data[0] + y.data[2] - 1) < 1e-6)
        #expect(y.data[1] == 0)
        #expect(y.data[3...5].allSatisfy { $0 == 0 })
    }

    func attentionWeights() throws -> AttentionWeights {
        AttentionWeights(
            query: try golden.tensor("attn.q.weight"), queryBias: try golden.tensor("attn.q.bias"),
            key: try golden.tensor("attn.k.weight"), keyBias: try golden.tensor("attn.k.bias"),
            value: try golden.tensor("attn.v.weight"), valueBias: try golden.tensor("attn.v.bias"),
            output: try golden.tensor("attn.out.weight"), outputBias: try golden.tensor("attn.out.bias"))
    }

    @Test(arguments: [
        ("attn.y_full", nil), ("attn.y_band_5_2", AttentionBand(back: 5, ahead: 2)),
        ("attn.y_band_0_0", AttentionBand(back: 0, ahead: 0)), ("attn.y_band_100_0", AttentionBand(back: 100, ahead: 0)),
    ] as [(String, AttentionBand?)])
    func attentionMatchesReference(name: String, band: AttentionBand?) throws {
        let y = multiHeadSelfAttention(try golden.tensor("attn.x"), weights: try attentionWeights(), heads: 4, band: band)
        expectClose(y, try golden.tensor(name), name)
    }

    @Test func bandedAttentionIgnoresFramesBeyondTheLookAhead() throws {
        // Changing frames more than `ahead` in the future must not change earlier outputs.
        let x = try golden.tensor("attn.x")
        var changed = x
        for i in (40 * 16)..<changed.count { changed.data[i] += 3 }
        let band = AttentionBand(back: 5, ahead: 2)
        let a = multiHeadSelfAttention(x, weights: try attentionWeights(), heads: 4, band: band)
        let b = multiHeadSelfAttention(changed, weights: try attentionWeights(), heads: 4, band: band)
        #expect(a.data[0..<(38 * 16)] == b.data[0..<(38 * 16)])
        #expect(a.data[(38 * 16)..<(39 * 16)] != b.data[(38 * 16)..<(39 * 16)])
    }

    @Test func positionalEncodings() throws {
        expectClose(sinusoidalPositions(length: 10, width: 16), try golden.tensor("pos.sin_10_16"), "sinusoidal")
        expectClose(
            sinusoidalPositions(length: 6, width: 15, offset: 7), try golden.tensor("pos.sin_6_15_offset7"),
            "sinusoidal odd width with offset")
        let learned = addPositions(try golden.tensor("pos.x"), table: try golden.tensor("pos.table"), offset: 3)
        expectClose(learned, try golden.tensor("pos.learned_offset3"), "learned positions")
    }

    @Test func positionsByRotationMatchDirectSinAndCosAndIgnoreWhereACallStarts() {
        // Far positions (the rotation's error would grow there) against sin/cos in double.
        let width = 128, length = 700, offset = 30_000
        let table = sinusoidalPositions(length: length, width: width, offset: offset)
        var worst: Double = 0
        for t in 0..<length {
            for pair in stride(from: 0, to: width, by: 2) {
                let angle = Double(t + offset) * exp(-Double(pair) * log(10000.0) / Double(width))
                worst = max(worst, abs(Double(table.data[t * width + pair]) - sin(angle)))
                worst = max(worst, abs(Double(table.data[t * width + pair + 1]) - cos(angle)))
            }
        }
        #expect(worst <= 1e-7, "largest difference from sin/cos \(worst)")
        // Chunks starting anywhere (on and off the anchors) give the same rows bit for bit.
        var pieces: [Float] = []
        var start = offset
        for size in [1, 63, 64, 5, 130, 437] {
            pieces += sinusoidalPositions(length: size, width: width, offset: start).data
            start += size
        }
        #expect(start == offset + length)
        #expect(pieces == table.data)
    }

    @Test(arguments: [1, 100, 191, 192, 255, 256, 300, 1000])
    func tiledRowsStackTheTilesInOrderWithNoShortTile(count: Int) {
        var tiles: [Range<Int>] = []
        let result = tiledRows(10..<(10 + count), width: 3, tile: 128) { tile in
            tiles.append(tile)
            return Tensor(shape: [tile.count, 3], data: tile.flatMap { [Float($0), Float(-$0), 0.5] })
        }
        #expect(result.shape == [count, 3])
        #expect(result.data == (10..<(10 + count)).flatMap { [Float($0), Float(-$0), 0.5] })
        #expect(tiles.first?.lowerBound == 10 && tiles.last?.upperBound == 10 + count)
        for (a, b) in zip(tiles, tiles.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        if count >= 192 {
            #expect(tiles.allSatisfy { $0.count >= 64 && $0.count < 192 })
        } else {
            #expect(tiles == [10..<(10 + count)])
        }
    }

    @Test func embeddingLookup() throws {
        let ids = try golden.tensor("embed.ids").data.map { Int($0) }
        expectClose(try embedding(ids, table: try golden.tensor("embed.table")), try golden.tensor("embed.y"), "embedding")
        #expect(throws: KMTError.self) { try embedding([11], table: try golden.tensor("embed.table")) }
        #expect(throws: KMTError.self) { try embedding([-1], table: try golden.tensor("embed.table")) }
    }

    @Test(arguments: [("fps.y_60", 60.0), ("fps.y_30", 30.0), ("fps.y_24", 24.0)])
    func frameRateConversion(name: String, fps: Double) throws {
        expectClose(resampleFrames(try golden.tensor("fps.x"), from: 50, to: fps), try golden.tensor(name), name)
    }

    @Test func halfPrecisionTensorsConvertExactly() throws {
        #expect(golden.storedTypes["dtype.f16"] == .f16)
        #expect(golden.storedTypes["dtype.bf16"] == .bf16)
        #expect(try golden.tensor("dtype.f16").data == (try golden.tensor("dtype.f16.expected")).data)
        #expect(try golden.tensor("dtype.bf16").data == (try golden.tensor("dtype.bf16.expected")).data)
    }
}
