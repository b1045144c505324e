"""kmtalk.livelink: Live Link Face packets against hand-written bytes, the
Python sender and `kmtalk stream --livelink` against a local UDP receiver."""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import kmtalk
from kmtalk import _lib, livelink

from conftest import signal, write_wav

# version 6, device "dev", subject "Ké" (3 UTF-8 bytes), frame 258, subframe
# 0.5, rate 60/1, 61 values: slot 0 = 1.0, slot 17 (JawOpen) = -2.0, others 0.
# Written from the format description, not with struct, so that a mistake
# shared by encode_packet and decode_packet cannot cancel out.
GOLDEN = bytes.fromhex(
    "06"
    "00000003" "646576"
    "00000003" "4bc3a9"
    "00000102"
    "3f000000"
    "0000003c" "00000001"
    "3d"
    + "3f800000"
    + "00000000" * 16
    + "c0000000"
    + "00000000" * 43
)


def test_golden_packet():
    values = [0.0] * 61
    values[0], values[17] = 1.0, -2.0
    assert len(GOLDEN) == 1 + 7 + 7 + 16 + 1 + 61 * 4
    assert livelink.encode_packet(values, 258, subject="Ké", device_id="dev", subframe=0.5) == GOLDEN
    packet = livelink.decode_packet(GOLDEN)
    assert (packet.device_id, packet.subject, packet.frame_number, packet.subframe) == ("dev", "Ké", 258, 0.5)
    assert (packet.rate_numerator, packet.rate_denominator, packet.fps) == (60, 1, 60.0)
    assert packet.value("JawOpen") == -2.0 and packet.value("eyeBlinkLeft") == 1.0
    assert packet.values == tuple(values)


def test_order_is_unreals_enum():
    names = livelink.BLENDSHAPE_NAMES
    assert len(names) == 61 and names[15:18] == ("JawLeft", "JawRight", "JawOpen")
    assert names[21:23] == ("MouthLeft", "MouthRight") and names[52] == "HeadYaw"
    assert livelink.slots(["jawOpen", "MouthRight", "neck"]) == [17, 22, None]


@pytest.mark.parametrize("bad", [
    GOLDEN[:-1],                 # truncated
    GOLDEN + b"\0",              # trailing byte
    b"\x05" + GOLDEN[1:],        # version 5
    GOLDEN[:31] + b"\x34" + GOLDEN[32:-36],  # 52 values
    GOLDEN[:1] + b"\xff\xff\xff\xff" + GOLDEN[5:],  # negative length
])
def test_decode_rejects(bad):
    with pytest.raises(ValueError):
        livelink.decode_packet(bad)


def test_encode_rejects():
    with pytest.raises(ValueError):
        livelink.encode_packet([0.0] * 52, 0)
    with pytest.raises(ValueError):
        livelink.encode_packet([0.0] * 61, 0, subject="x" * 256)
    with pytest.raises(ValueError):
        livelink.LiveLinkSender(fps=29.97)


class Receiver:
    """A UDP socket on 127.0.0.1 (ephemeral port) that collects every datagram
    on a thread until stopped."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.datagrams = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            try:
                self.datagrams.append(self.socket.recv(4096))
            except socket.timeout:
                if self._stop.is_set():
                    return

    def packets(self):
        """Stops (after the socket has been quiet for 0.2 s) and decodes."""
        self._stop.set()
        self._thread.join()
        self.socket.close()
        return [livelink.decode_packet(d) for d in self.datagrams]


def chunks_of(pcm: np.ndarray, size: int):
    return [pcm[i:i + size] for i in range(0, len(pcm), size)]


def check_packets(packets, frames, channel_names, subject, fps=60):
    """Every packet against the frames: count, numbers, subject, rate, the 52
    values bit for bit (float32 through big-endian), the rotations 0."""
    assert len(packets) == len(frames)
    slots = livelink.slots(channel_names)
    assert all(slot is not None for slot in slots)
    device = packets[0].device_id
    for number, (packet, frame) in enumerate(zip(packets, frames)):
        assert (packet.frame_number, packet.subframe) == (number, 0.0)
        assert (packet.subject, packet.device_id) == (subject, device)
        assert (packet.rate_numerator, packet.rate_denominator) == (fps, 1)
        values = np.array(packet.values, dtype=np.float32)
        assert np.array_equal(values[slots], frame), f"frame {number}"
        assert not values[52:].any()
        assert sorted(set(range(61)) - set(slots)) == list(range(52, 61))


def test_python_sender_over_udp(model):
    rate = 16000
    pcm = (signal(np.arange(int(1.5 * rate)) / rate) * 32767).astype(np.int16)
    session = kmtalk.Session(model, threads=1, fps=60)
    receiver = Receiver()
    frames = []
    with livelink.LiveLinkSender("127.0.0.1", receiver.port, subject="Py Face", fps=session.fps,
                                 channel_names=model.channel_names) as sender:
        for batch, first in session.stream(chunks_of(pcm, 160), rate):
            frames.append(batch)
            assert sender.send_frames(batch, first_frame=round(first * 60)) == len(batch)
        assert sender.packets_sent == sum(len(b) for b in frames)
    frames = np.concatenate(frames)
    assert len(frames) == len(session.animate_pcm(pcm, rate).weights) == 91  # 1.5 s at 60 fps
    check_packets(receiver.packets(), frames, model.channel_names, "Py Face")


def find_cli() -> Path:
    """The built CLI: $KMTALK_CLI (must exist when set), else the one built with
    the loaded library (.build/debug/kmtalk beside .build/debug/libKMTalk.so,
    dist/bin beside dist/lib), so both compute the same bits."""
    env = os.environ.get("KMTALK_CLI")
    if env:
        assert Path(env).is_file(), f"KMTALK_CLI={env} does not exist"
        return Path(env)
    library = Path(_lib._path or "")
    for path in (library.parent / "kmtalk", library.parent.parent / "bin" / "kmtalk"):
        if library.is_absolute() and path.is_file():
            return path
    pytest.skip(f"no kmtalk CLI beside {library} (swift build) and KMTALK_CLI is not set")


@pytest.mark.parametrize("latency", [None, 400.0])
def test_cli_stream_over_udp(model, model_path, tmp_path, latency):
    """`kmtalk stream FILE --livelink` sends exactly the frames the Python
    streaming session gives for the same audio, chunks and latency; at a latency
    above the look-ahead, those of `kmtalk animate` too."""
    cli = find_cli()
    rate = 16000
    wav = tmp_path / "speech.wav"
    pcm = write_wav(wav, signal(np.arange(int(1.5 * rate)) / rate), rate)[:, 0]
    receiver = Receiver()
    command = [str(cli), "stream", str(wav), "--livelink", f"127.0.0.1:{receiver.port}", "--subject", "CLI Face",
               "--as-fast-as-possible", "--model", str(model_path), "--quiet"]
    if latency is not None:
        command += ["--latency-ms", str(latency)]
    subprocess.run(command, check=True, timeout=120)
    packets = receiver.packets()

    session = kmtalk.Session(model, threads=1, fps=60)
    if latency is not None:
        session.latency_ms = latency
    frames = np.concatenate([f for f, _ in session.stream(chunks_of(pcm, 160), rate)])
    check_packets(packets, frames, model.channel_names, "CLI Face")

    if latency is not None:
        out = tmp_path / "offline.json"
        subprocess.run([str(cli), "animate", str(wav), "-o", str(out), "--fps", "60", "--model", str(model_path),
                        "--quiet"], check=True, timeout=120)
        offline = json.loads(out.read_text())
        weights = np.array(offline["frames"], dtype=np.float32)
        slots = livelink.slots(offline["channels"])
        received = np.array([p.values for p in packets], dtype=np.float32)[:, slots]
        assert received.shape == weights.shape
        assert np.abs(received - weights).max() < 1e-4


def test_cli_stream_stdin_and_errors(model_path):
    cli = find_cli()
    rate = 8000
    pcm = (signal(np.arange(rate) / rate) * 32767).astype("<i2")
    receiver = Receiver()
    subprocess.run([str(cli), "stream", "-", "--rate", str(rate), "--livelink", f"localhost:{receiver.port}",
                    "--as-fast-as-possible", "--model", str(model_path), "--quiet"],
                   input=pcm.tobytes(), check=True, timeout=120)
    packets = receiver.packets()
    assert [p.frame_number for p in packets] == list(range(61))  # 1 s at 60 fps: the offline count
    for endpoint, message in [("nohost.invalid:11111", "cannot resolve host"), ("127.0.0.1:0", "1-65535"),
                              ("127.0.0.1:x", "1-65535"), (":11111", "HOST:PORT")]:
        result = subprocess.run([str(cli), "stream", "-", "--livelink", endpoint, "--model", str(model_path)],
                                input=b"", capture_output=True, timeout=60)
        assert result.returncode != 0 and message in result.stderr.decode(), (endpoint, result.stderr)


def test_livelink_example(model, model_path, tmp_path):
    import sys

    rate = 16000
    wav = tmp_path / "speech.wav"
    write_wav(wav, signal(np.arange(rate) / rate), rate)
    example = Path(__file__).resolve().parents[1] / "examples" / "livelink_wav.py"
    env = dict(os.environ, PYTHONPATH=str(Path(kmtalk.__file__).resolve().parents[1]))
    receiver = Receiver()
    result = subprocess.run([sys.executable, str(example), str(wav), "--model", str(model_path), "--fast",
                             "--port", str(receiver.port), "--subject", "Example"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    packets = receiver.packets()
    assert "sent 61 packets" in result.stdout
    assert [p.frame_number for p in packets] == list(range(61))
    assert {p.subject for p in packets} == {"Example"}
