import CKMTalk
import Foundation
import Testing

@testable import kmtalk

/// The CLI's side of issue 14's progress and fidelity items: `--extended-shapes`,
/// `--quiet`, the Live Link rate warning, the progress bar's drawing, and `preview`'s MP4
/// written atomically (with a stand-in for ffmpeg). Ctrl-C itself is exercised on the
/// built binary by scripts/test-interrupt.py (a signal cannot be sent to one test of a
/// process running many).
@Suite struct ProgressOptionsTests {
    @Test func extendedShapesOptionReachesTheCueFiles() throws {
        let directory = try PreviewTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let audio = directory.appendingPathComponent("speech.wav").path
        try PreviewTests.writeSpeechLikeWAV(audio, seconds: 2)
        let tsv = directory.appendingPathComponent("cues.tsv").path
        try Animate.parse([audio, "-o", tsv, "--model", PreviewTests.tinyModel, "--quiet"]).run()
        let all = try String(contentsOfFile: tsv, encoding: .utf8)
        #expect(all.hasSuffix("\tX\n"), "by default the track closes with X")
        var command = try Animate.parse([audio, "-o", tsv, "--model", PreviewTests.tinyModel, "--extended-shapes", "", "-q"])
        try command.validate()
        try command.run()
        let basic = try String(contentsOfFile: tsv, encoding: .utf8)
        let shapes = Set(basic.split(separator: "\n").map { $0.split(separator: "\t")[1] })
        #expect(shapes.isSubset(of: ["A", "B", "C", "D", "E", "F"]), "\(shapes)")
        #expect(basic.hasSuffix("\tA\n"), "without X the track closes with A, as Rhubarb's")
        // G and H kept, X drawn as A.
        command = try Animate.parse([audio, "-o", tsv, "--model", PreviewTests.tinyModel, "--extended-shapes", "GH", "--quiet"])
        try command.run()
        #expect(try !String(contentsOfFile: tsv, encoding: .utf8).contains("\tX"))
        // Letters are checked when the arguments are read, before any work.
        #expect(throws: (any Error).self) { try Animate.parse([audio, "-o", tsv, "--extended-shapes", "GQ"]) }
        #expect(throws: (any Error).self) { try Animate.parseAsRoot([audio, "-o", tsv, "--extended-shapes", "Z"]) }
    }

    @Test func liveLinkRatesTheAppNeverRecordsAreWarnedAbout() {
        #expect(Animate.liveLinkRateWarning(fps: 60) == nil && Animate.liveLinkRateWarning(fps: 30) == nil)
        let warning = Animate.liveLinkRateWarning(fps: 50)
        #expect(warning?.hasPrefix("warning: Live Link Face CSV at 50 fps: the Live Link Face app records at 30 or 60 fps") == true)
        #expect(Animate.liveLinkRateWarning(fps: 29.97)?.contains("29.97 fps") == true)
    }

    @Test func theBarIsOffWhenQuietOrNotATerminal() {
        #expect(!ProgressBar(quiet: true).enabled)
        // Under `swift test` stderr is a pipe or a file unless run by hand on a terminal.
        #expect(ProgressBar(quiet: false).enabled == (isatty(STDERR_FILENO) == 1))
        // The callback with no bar only answers Ctrl-C (not pressed here).
        #expect(ProgressBar.callback(0.5, nil, nil) == 0)
    }

    /// A stand-in for ffmpeg: copies its stdin into its last argument (the output file),
    /// then exits with `status`.
    static func fakeFFmpeg(in directory: URL, status: Int) throws -> String {
        let path = directory.appendingPathComponent("ffmpeg-\(status)").path
        try "#!/bin/sh\nfor last; do :; done\ncat > \"$last\"\nexit \(status)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// The names in `directory`, hidden ones included.
    static func names(_ directory: URL) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
    }

    @Test func previewWritesItsMP4Atomically() throws {
        let directory = try PreviewTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tools = directory.appendingPathComponent("tools")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        let output = directory.appendingPathComponent("talk.mp4").path
        try Data("old video".utf8).write(to: URL(fileURLWithPath: output))
        let frame = [UInt8](repeating: 9, count: 4 * 4 * 3)

        // ffmpeg fails: the old file stays, no temporary is left.
        let failing = try FFmpegSink(ffmpeg: Self.fakeFFmpeg(in: tools, status: 3), output: output, audio: "a.wav", width: 4, height: 4, fps: 25)
        #expect(failing.temporary.hasPrefix(directory.path + "/.talk.mp4.kmtalk-") && failing.temporary.hasSuffix(".tmp"))
        try failing.write(rgb: frame, index: 0)
        #expect(throws: (any Error).self) { try failing.finish() }
        #expect(try Self.names(directory) == ["talk.mp4", "tools"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data("old video".utf8))

        // Given up halfway (an error or Ctrl-C): the same.
        let abandoned = try FFmpegSink(ffmpeg: Self.fakeFFmpeg(in: tools, status: 0), output: output, audio: "a.wav", width: 4, height: 4, fps: 25)
        try abandoned.write(rgb: frame, index: 0)
        abandoned.discard()
        #expect(try Self.names(directory) == ["talk.mp4", "tools"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data("old video".utf8))

        // Success: the new file replaces the old one in one rename.
        let succeeding = try FFmpegSink(ffmpeg: Self.fakeFFmpeg(in: tools, status: 0), output: output, audio: "a.wav", width: 4, height: 4, fps: 25)
        try succeeding.write(rgb: frame, index: 0)
        try succeeding.write(rgb: frame, index: 1)
        try succeeding.finish()
        #expect(try Self.names(directory) == ["talk.mp4", "tools"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data(frame + frame))
    }
}
