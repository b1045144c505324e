import ArgumentParser
import CKMTalk
import Foundation

/// `kmtalk stream AUDIO --livelink HOST:PORT`: streams audio through a streaming session
/// (kmt_session_push_* / _pull, 10 ms chunks) and sends each output frame to Unreal as a
/// Live Link Face UDP packet (`LiveLinkFacePacket`).
struct StreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Stream audio live to Unreal Engine's Live Link (the Live Link Face app's UDP packets).",
        discussion: """
            Feeds the audio to a streaming session in 10 ms chunks, paced in real time \
            (--as-fast-as-possible: no waiting), and sends one UDP packet per output frame \
            to HOST:PORT in the iPhone Live Link Face app's format (packet version 6): \
            with the Live Link and Apple ARKit Face Support plugins enabled, Unreal lists \
            the subject (--subject) in its Live Link window by itself. The 52 ARKit values \
            go out in Unreal's order; the head and eye rotations are 0. Frame i carries frame number i at --fps frames per second.
            A frame leaves --latency-ms after its time (150 by default; the model's full \
            look-ahead, 296 ms for kmtalk-base, sends exactly the offline animation).
            '-' reads raw PCM from stdin: signed 16-bit little-endian, mono, at --rate Hz \
            (default 16000), e.g. from a microphone:
              arecord -f S16_LE -r 16000 -c 1 | kmtalk stream - --livelink 127.0.0.1:11111
            Files: every format the library decodes (WAV, FLAC, Ogg, MP3, AIFF, ...; any \
            rate and channels; kmt_audio_load_file), MP4/M4A and video through ffmpeg when \
            installed. Ctrl-C stops: exit status 130.
            Guide: docs/unreal-livelink.md.
            """)

    /// How pushes and packets are timed.
    enum Pacing: String, EnumerableFlag {
        /// Push each chunk at its time and send each frame its latency after its time.
        case realtime
        /// No waiting (tests, or a host that buffers).
        case asFastAsPossible
    }

    @Argument(help: "Audio file (WAV, FLAC, Ogg, MP3, AIFF, ...; MP4/M4A through ffmpeg), or '-' for raw s16le mono PCM on stdin.")
    var audio: String

    @Option(help: ArgumentHelp("Where to send the packets: the machine running Unreal, port 11111 unless changed there.", valueName: "host:port"))
    var livelink: String

    @Option(help: "The Live Link subject name Unreal shows.")
    var subject: String = "KMTalk"

    @Option(help: "Streaming latency in milliseconds, >= 20 (default: the library's, 150 ms; the model's look-ahead or more: exact).")
    var latencyMs: Double?

    @Flag(help: "Pacing: --realtime (default) sends in time with the audio; --as-fast-as-possible does not wait.")
    var pacing: Pacing = .realtime

    @Option(help: "Sample rate of raw PCM on stdin ('-'), 8000-192000.")
    var rate: Int32 = 16000

    @Option(help: "Frames per second of the packets, a whole number 1-240 (the app sends 60).")
    var fps: Int = 60

    @OptionGroup var engine: EngineOptions


    @Flag(name: .shortAndLong, help: "No notes or summary on stderr (errors still show).")
    var quiet = false

    func validate() throws {
        guard (1...240).contains(fps) else { throw ValidationError("--fps must be a whole number 1-240, not \(fps)") }
        guard (8000...192_000).contains(rate) else { throw ValidationError("--rate must be 8000-192000, not \(rate)") }
        guard !subject.isEmpty, subject.utf8.count <= LiveLinkFacePacket.maxNameBytes else {
            throw ValidationError("--subject must be 1-\(LiveLinkFacePacket.maxNameBytes) bytes of UTF-8")
        }
        if let latencyMs, !(latencyMs >= 20) { throw ValidationError("--latency-ms must be 20 or more, not \(latencyMs)") }
        _ = try UDPSender.parse(livelink, defaultPort: LiveLinkFacePacket.defaultPort)
    }

    func run() throws {
        Interrupt.install()
        var sent = 0
        do {
            try stream(sent: &sent)
        } catch where Interrupt.requested {
            throw Interrupt.stop("sent \(sent) packets")
        }
        if Interrupt.requested { throw Interrupt.stop("sent \(sent) packets") }
    }

    /// Writes `line` to stderr unless --quiet.
    private func note(_ line: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The command's work; `sent` counts the packets sent so far.
    private func stream(sent: inout Int) throws {
        let modelPath = try ModelLocator.resolve(engine.model)
        let modelHandle = try ModelHandle(path: modelPath)
        if modelHandle.motionSpace != "arkit" {
            let space = modelHandle.motionSpace
            throw CLIError("\(modelPath) animates \(space == "vertices" ? "vertex offsets" : "rig controls"), not ARKit weights: Live Link Face carries the 52 ARKit blendshapes")
        }
        let channels = modelHandle.channelNames
        let slots = LiveLinkFacePacket.slots(for: channels)
        guard slots.contains(where: { $0 != nil }) else {
            throw CLIError("\(modelPath): none of its \(channels.count) channels is an ARKit blendshape Live Link Face carries")
        }
        let unmatched = zip(channels, slots).filter { $0.1 == nil }.map(\.0)
        if !unmatched.isEmpty { note("note: not sent (no Live Link Face slot): \(unmatched.joined(separator: ", "))") }

        let session = try SessionHandle(model: modelHandle, threads: engine.threads, fps: Double(fps))
        if let latencyMs { try session.setLatency(ms: latencyMs) }
        let latency = try session.latencyMs()
        let sender = try UDPSender(endpoint: livelink, defaultPort: LiveLinkFacePacket.defaultPort)
        // Files are decoded at the model's rate, as kmt_animate_file decodes them.
        let source = try PCMSource(audio, rawRate: rate, decodeRate: modelHandle.sampleRate)
        let realtime = pacing == .realtime
        note("streaming \(source.label) to \(sender.label) as Live Link subject '\(subject)': \(fps) fps, latency \(String(format: "%g", latency)) ms\(realtime ? "" : ", as fast as possible"); Ctrl-C stops")

        var packet = LiveLinkFacePacket(
            deviceID: UUID().uuidString, subject: subject, frameNumber: 0, rateNumerator: Int32(fps),
            values: [Float](repeating: 0, count: LiveLinkFacePacket.slotNames.count))
        let start = DispatchTime.now().uptimeNanoseconds
        let width = channels.count
        /// Sends the rows of `frames`, frame numbers from `sent`; in real time not before
        /// each frame's time plus the latency.
        func send(_ frames: [Float]) throws {
            for row in stride(from: 0, to: frames.count, by: width) {
                if realtime, !wait(until: start, seconds: Double(sent) / Double(fps) + latency / 1000) { return }
                for (channel, slot) in slots.enumerated() { if let slot { packet.values[slot] = frames[row + channel] } }
                packet.frameNumber = Int32(truncatingIfNeeded: sent)
                try sender.send(packet.encoded())
                sent += 1
            }
        }

        let chunkFrames = max(1, Int(source.sampleRate) / 100)
        var pushed = 0
        while !Interrupt.requested, let chunk = try source.read(frames: chunkFrames, stop: { Interrupt.requested }) {
            let frames = chunk.sampleCount / Int(source.channels)
            // A chunk is pushed when its last sample would have been heard.
            if realtime, !wait(until: start, seconds: Double(pushed + frames) / Double(source.sampleRate)) { break }
            try session.push(chunk, sampleRate: source.sampleRate, channels: source.channels)
            pushed += frames
            try send(session.pull(channels: width))
        }
        guard !Interrupt.requested else { return }
        try session.flush()
        try send(session.pull(channels: width))
        guard !Interrupt.requested else { return }
        note(String(format: "sent %d packets (%.2f s of audio at %d fps) to %@ as subject '%@'",
                    sent, Double(pushed) / Double(source.sampleRate), fps, sender.label, subject))
    }

    /// Sleeps until `seconds` after `start` (uptime nanoseconds), waking every 20 ms to see
    /// whether Ctrl-C was pressed; false when it was.
    private func wait(until start: UInt64, seconds: Double) -> Bool {
        let target = start + UInt64(max(0, seconds) * 1e9)
        while true {
            if Interrupt.requested { return false }
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < target else { return true }
            usleep(UInt32(min(target - now, 20_000_000) / 1000))
        }
    }
}
