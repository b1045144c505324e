import CKMTalk
import Foundation
import Testing

@testable import KMTalkEngine

/// `kmt_animation_save_with_params` and `kmt_animation_save_to_memory_with_params`:
/// progress per batch of frames, cancellation that leaves nothing half-written (no
/// temporary files, an earlier file or sequence untouched), NULL and older params.
@Suite struct ExportProgressTests {
    var lastError: String { String(cString: kmt_last_error()) }

    /// A rig handle (freed by the caller) of the export test rig.
    func rigHandle() throws -> OpaquePointer {
        let bytes = try ExportFixtures.rig().0.encode()
        var rig: OpaquePointer?
        #expect(kmt_rig_load_memory(bytes, bytes.count, &rig) == KMT_OK, "\(lastError)")
        return try need(rig)
    }

    /// Export params reporting to `log`.
    func params(_ log: ProgressLog) -> kmt_export_params {
        var params = kmt_export_params()
        #expect(kmt_export_params_init(&params, MemoryLayout<kmt_export_params>.size) == KMT_OK)
        params.progress = ProgressLog.callback
        params.progress_user_data = log.userData
        return params
    }

    /// Every name in `directory` with its bytes.
    func snapshot(_ directory: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            files[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        return files
    }

    @Test func objSequenceReportsEachBatch() throws {
        let rig = try rigHandle()
        defer { kmt_rig_free(rig) }
        let animation = Handle.retain(ExportFixtures.animation(frames: 200))
        defer { kmt_animation_free(animation) }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = ProgressLog()
        var p = params(log)
        let path = directory.appendingPathComponent("face.obj").path
        #expect(kmt_animation_save_with_params(animation, rig, path, KMT_EXPORT_OBJ, &p) == KMT_OK, "\(lastError)")
        log.returned = true
        log.expectWellFormed(finished: true)
        #expect(Set(log.stages) == ["export"])
        // 200 frames in batches of 32: a report per batch (7), the start and the end.
        #expect(log.fractions.count == 9, "\(log.fractions)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 200)
    }

    @Test(arguments: [KMT_EXPORT_OBJ, KMT_EXPORT_PLY])
    func cancellingASequenceLeavesThePreviousOneIntact(format: kmt_export_format) throws {
        let rig = try rigHandle()
        defer { kmt_rig_free(rig) }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(format == KMT_EXPORT_OBJ ? "face.obj" : "face.ply").path
        // The earlier sequence: 10 frames of other weights.
        let old = Handle.retain(ExportFixtures.animation(frames: 10, seed: 5))
        defer { kmt_animation_free(old) }
        #expect(kmt_animation_save(old, rig, path, format) == KMT_OK, "\(lastError)")
        let before = try snapshot(directory)
        #expect(before.count == 10)

        let animation = Handle.retain(ExportFixtures.animation(frames: 200))
        defer { kmt_animation_free(animation) }
        let log = ProgressLog(cancelAt: 0.5)
        var p = params(log)
        #expect(kmt_animation_save_with_params(animation, rig, path, format, &p) == KMT_ERR_CANCELLED)
        log.returned = true
        #expect(lastError.contains("cancelled by the progress callback during export"), "\(lastError)")
        #expect(lastError.contains("nothing was written"), "\(lastError)")
        log.expectWellFormed(finished: false)
        #expect(try snapshot(directory) == before, "the old sequence changed, or a staging folder was left")
    }

    @Test func cancellingASingleFileLeavesTheOldFileAndNoTemporary() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("take.json").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        let animation = Handle.retain(ExportFixtures.animation(frames: 30))
        defer { kmt_animation_free(animation) }
        // Cancelled at the last report, 1.0: the file is fully staged and still not renamed.
        let log = ProgressLog(cancelAt: 1)
        var p = params(log)
        #expect(kmt_animation_save_with_params(animation, nil, path, KMT_EXPORT_JSON, &p) == KMT_ERR_CANCELLED)
        #expect(log.fractions.last == 1)
        #expect(try snapshot(directory) == ["take.json": Data("old".utf8)])
        // Without a cancel the same call writes it.
        let fine = ProgressLog()
        p = params(fine)
        #expect(kmt_animation_save_with_params(animation, nil, path, KMT_EXPORT_JSON, &p) == KMT_OK, "\(lastError)")
        fine.returned = true
        fine.expectWellFormed(finished: true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count > 100)
    }

    /// JSON, CSV, Live Link CSV and GLB report while they encode (not only at 0 and the
    /// end) and a cancel in the middle of encoding stops it: KMT_ERR_CANCELLED, the
    /// earlier file untouched, no temporary file.
    @Test(arguments: [KMT_EXPORT_JSON, KMT_EXPORT_CSV, KMT_EXPORT_LIVE_LINK_CSV, KMT_EXPORT_GLB, KMT_EXPORT_GLB_SPARSE])
    func textAndGLBReportWhileEncodingAndCancelMidway(format: kmt_export_format) throws {
        let rig = try rigHandle()
        defer { kmt_rig_free(rig) }
        // 3000 frames: 47 blocks of 64 rows, 3 of 1024 frames of GLB weights.
        let animation = Handle.retain(ExportFixtures.animation(frames: 3000))
        defer { kmt_animation_free(animation) }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("take.out").path
        let geometry = format == KMT_EXPORT_GLB || format == KMT_EXPORT_GLB_SPARSE
        let log = ProgressLog()
        var p = params(log)
        #expect(kmt_animation_save_with_params(animation, geometry ? rig : nil, path, format, &p) == KMT_OK, "\(lastError)")
        log.returned = true
        log.expectWellFormed(finished: true)
        let encoding = log.fractions.filter { $0 > 0 && $0 < 0.9 }
        #expect(encoding.count >= (geometry ? 5 : 30), "reports while encoding: \(log.fractions)")

        // Cancelled at 30%: mid-encoding, before anything is staged.
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        let cancel = ProgressLog(cancelAt: 0.3)
        p = params(cancel)
        #expect(kmt_animation_save_with_params(animation, geometry ? rig : nil, path, format, &p) == KMT_ERR_CANCELLED)
        cancel.returned = true
        cancel.expectWellFormed(finished: false)
        #expect(try need(cancel.fractions.last) < 0.5, "cancelled at \(cancel.fractions.last ?? -1), not mid-encoding")
        #expect(lastError.contains("cancelled by the progress callback during export"), "\(lastError)")
        #expect(try snapshot(directory) == ["take.out": Data("old".utf8)])
        // The memory export too: cancelled, nothing returned.
        var size = 0
        let memory = ProgressLog(cancelAt: 0.3)
        p = params(memory)
        #expect(kmt_animation_save_to_memory_with_params(animation, geometry ? rig : nil, format, &p, nil, 0, &size) == KMT_ERR_CANCELLED)
        #expect(size == 0)
    }

    @Test func memoryExportsReportAndCancel() throws {
        let rig = try rigHandle()
        defer { kmt_rig_free(rig) }
        let animation = Handle.retain(ExportFixtures.animation(frames: 300))
        defer { kmt_animation_free(animation) }
        // NPY of vertices poses per batch.
        let log = ProgressLog()
        var p = params(log)
        var size = 0
        #expect(kmt_animation_save_to_memory_with_params(animation, rig, KMT_EXPORT_NPY, &p, nil, 0, &size) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(!log.fractions.contains(1), "a size query does not report the end")
        var bytes = [UInt8](repeating: 0, count: size)
        let sizeQueryReports = log.fractions.count
        #expect(kmt_animation_save_to_memory_with_params(animation, rig, KMT_EXPORT_NPY, &p, &bytes, bytes.count, &size) == KMT_OK)
        #expect(log.fractions.last == 1 && log.fractions.count - sizeQueryReports > 3, "\(log.fractions)")
        // The bytes equal kmt_animation_save_to_memory's.
        var plain = [UInt8](repeating: 0, count: size)
        #expect(kmt_animation_save_to_memory(animation, rig, KMT_EXPORT_NPY, &plain, plain.count, nil) == KMT_OK)
        #expect(plain == bytes)
        // Cancelled: KMT_ERR_CANCELLED, out_size 0, the buffer untouched.
        let cancel = ProgressLog(cancelAt: 0.3)
        p = params(cancel)
        var untouched = [UInt8](repeating: 7, count: size)
        var reported = -1
        #expect(kmt_animation_save_to_memory_with_params(animation, rig, KMT_EXPORT_NPY, &p, &untouched, untouched.count, &reported) == KMT_ERR_CANCELLED)
        #expect(reported == 0 && untouched.allSatisfy { $0 == 7 })
    }

    @Test func paramsInitWritesTheCallersSizeOnly() {
        // 24 bytes: the header before mouth_cue_extended_shapes.
        expectParamsInit(
            kmt_export_params_init,
            byValue: kmt_export_params(
                struct_size: MemoryLayout<kmt_export_params>.size, progress: nil, progress_user_data: nil,
                mouth_cue_extended_shapes: nil),
            name: "kmt_export_params", olderSize: 24, splitSize: 20)
        #expect(MemoryLayout<kmt_export_params>.size == 32)
    }

    @Test func nullAndOlderParams() throws {
        let animation = Handle.retain(ExportFixtures.animation(frames: 12))
        defer { kmt_animation_free(animation) }
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("w.csv").path
        #expect(kmt_animation_save_with_params(animation, nil, path, KMT_EXPORT_AUTO, nil) == KMT_OK, "\(lastError)")
        var defaults: kmt_export_params = initialized(kmt_export_params_init)
        #expect(defaults.struct_size == MemoryLayout<kmt_export_params>.size && defaults.progress == nil)
        #expect(defaults.mouth_cue_extended_shapes == nil)
        #expect(kmt_animation_save_with_params(animation, nil, path, KMT_EXPORT_AUTO, &defaults) == KMT_OK)
        // A caller that knows only struct_size: no progress, all shapes.
        let log = ProgressLog(cancelAt: 0)
        var p = params(log)
        p.struct_size = MemoryLayout<Int>.size
        #expect(kmt_animation_save_with_params(animation, nil, path, KMT_EXPORT_AUTO, &p) == KMT_OK, "\(lastError)")
        #expect(log.fractions.isEmpty)
        p.struct_size = 12
        #expect(kmt_animation_save_with_params(animation, nil, path, KMT_EXPORT_AUTO, &p) == KMT_ERR_INVALID_ARGUMENT)
        p.struct_size = 0
        #expect(kmt_animation_save_with_params(animation, nil, path, KMT_EXPORT_AUTO, &p) == KMT_ERR_INVALID_ARGUMENT)
        #expect(lastError.contains("struct_size"))
        // The old entry points are the calls with defaults.
        var size = 0
        #expect(kmt_animation_save_to_memory_with_params(animation, nil, KMT_EXPORT_CSV, nil, nil, 0, &size) == KMT_ERR_BUFFER_TOO_SMALL)
        #expect(try String(contentsOfFile: path, encoding: .utf8).utf8.count == size)
    }
}
