"""Live Link Face UDP packets: drive Unreal Engine's Live Link from KMTalk.

The iPhone Live Link Face app streams one UDP datagram per frame to port 11111,
where Unreal's Apple ARKit Face Support plugin listens. Packet version 6, every
multi-byte field big-endian (Unreal's FNboSerializeToBuffer, "network byte
order")::

    uint8    version               6
    int32    device id length      then that many UTF-8 bytes (no terminator)
    int32    subject name length   then that many UTF-8 bytes
    int32    frame number          } FQualifiedFrameTime: the frame time
    float32  subframe (0..1)       } (FFrameTime) and its rate (FFrameRate)
    int32    rate numerator        }
    int32    rate denominator      }
    uint8    value count           61
    float32  x 61                  in BLENDSHAPE_NAMES order

Sources: Unreal's AppleARKitLiveLinkSource.cpp (the publisher writes version,
device id, subject, time, count and the floats in EARFaceBlendShape order;
version 5 sent an FTimecode and a uint32 rate where 6 sends the
FQualifiedFrameTime), think-biq/LLV (src/llv/gesicht.py) and PyLiveLinkFace,
which agree byte for byte. See docs/unreal-livelink.md.

The values follow Unreal's EARFaceBlendShape enum, Apple's ARKit order
(JawLeft before JawRight; the app's *CSV* columns put right first, the packet
does not), then the 9 head and eye rotations, which KMTalk leaves at 0.

    sender = LiveLinkSender("127.0.0.1", subject="KMTalk", fps=session.fps)
    sender.send_stream(session.stream(chunks, 16000), channel_names=model.channel_names)
"""

from __future__ import annotations

import socket
import struct
import time
import uuid
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

#: The packet version Unreal's receiver accepts.
PACKET_VERSION = 6
#: The port the app sends to and Unreal listens on.
DEFAULT_PORT = 11111
#: The longest device id or subject sent, in UTF-8 bytes.
MAX_NAME_BYTES = 255

#: The 61 value slots in packet order: Unreal's EARFaceBlendShape names.
BLENDSHAPE_NAMES: Tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
    "EyeSquintLeft", "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight",
    "EyeLookOutRight", "EyeLookUpRight", "EyeSquintRight", "EyeWideRight", "JawForward",
    "JawLeft", "JawRight", "JawOpen", "MouthClose", "MouthFunnel", "MouthPucker", "MouthLeft",
    "MouthRight", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft", "MouthFrownRight",
    "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft",
    "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft",
    "MouthUpperUpRight", "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft",
    "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft",
    "NoseSneerRight", "TongueOut",
    "HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)
VALUE_COUNT = len(BLENDSHAPE_NAMES)

_VALUES = struct.Struct(f">{VALUE_COUNT}f")
_TIME = struct.Struct(">ifii")


@dataclass(frozen=True)
class Packet:
    """One decoded packet. ``values`` holds 61 floats in BLENDSHAPE_NAMES order."""

    device_id: str
    subject: str
    frame_number: int
    subframe: float
    rate_numerator: int
    rate_denominator: int
    values: Tuple[float, ...]

    @property
    def fps(self) -> float:
        return self.rate_numerator / self.rate_denominator

    def value(self, name: str) -> float:
        """The value of slot `name` (any case: "jawOpen" or "JawOpen")."""
        return self.values[_SLOT[name.lower()]]


_SLOT = {name.lower(): index for index, name in enumerate(BLENDSHAPE_NAMES)}


def _name_bytes(text: str, what: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) > MAX_NAME_BYTES:
        raise ValueError(f"{what} is {len(data)} bytes of UTF-8; at most {MAX_NAME_BYTES}")
    return struct.pack(">i", len(data)) + data


def encode_packet(values: Sequence[float], frame_number: int, *, subject: str = "KMTalk",
                  device_id: str = "KMTalk", rate: Tuple[int, int] = (60, 1),
                  subframe: float = 0.0) -> bytes:
    """The bytes of one packet. ``values``: 61 floats in BLENDSHAPE_NAMES order
    (use :func:`slots` to place a model's channels); ``rate``: (numerator,
    denominator) frames per second."""
    values = [float(v) for v in values]
    if len(values) != VALUE_COUNT:
        raise ValueError(f"a Live Link Face packet carries {VALUE_COUNT} values, got {len(values)}")
    return (bytes([PACKET_VERSION]) + _name_bytes(device_id, "device_id") + _name_bytes(subject, "subject")
            + _TIME.pack(int(frame_number), float(subframe), int(rate[0]), int(rate[1]))
            + bytes([VALUE_COUNT]) + _VALUES.pack(*values))


def decode_packet(data: bytes) -> Packet:
    """Reads one packet; ValueError when ``data`` is not exactly one version-6
    packet with 61 values."""
    data = bytes(data)
    offset = 0

    def take(count: int) -> bytes:
        nonlocal offset
        if count < 0 or offset + count > len(data):
            raise ValueError(f"Live Link Face packet truncated at byte {offset} of {len(data)}")
        offset += count
        return data[offset - count:offset]

    def string(what: str) -> str:
        (length,) = struct.unpack(">i", take(4))
        if not 0 <= length <= MAX_NAME_BYTES:
            raise ValueError(f"Live Link Face packet: {what} length {length}")
        return take(length).decode("utf-8")

    version = take(1)[0]
    if version != PACKET_VERSION:
        raise ValueError(f"Live Link Face packet version {version}; expected {PACKET_VERSION}")
    device_id = string("device id")
    subject = string("subject")
    frame, subframe, numerator, denominator = _TIME.unpack(take(_TIME.size))
    count = take(1)[0]
    if count != VALUE_COUNT:
        raise ValueError(f"Live Link Face packet with {count} values; expected {VALUE_COUNT}")
    values = _VALUES.unpack(take(_VALUES.size))
    if offset != len(data):
        raise ValueError(f"Live Link Face packet: {len(data) - offset} bytes after the values")
    return Packet(device_id, subject, frame, subframe, numerator, denominator, values)


def slots(channel_names: Iterable[str]) -> List[Optional[int]]:
    """The packet slot of each channel (ARKit names, any case), None where a
    channel has none."""
    return [_SLOT.get(name.lower()) for name in channel_names]


class LiveLinkSender:
    """Sends frames of ARKit weights to Unreal as Live Link Face packets.

    host, port: where Unreal runs (port 11111 unless changed there).
    subject: the Live Link subject name Unreal shows.
    fps: the frames' rate, a whole number (a session's ``fps``; the app sends 60).
    channel_names: the frames' channel names (``model.channel_names``);
        default: the 52 ARKit names in Apple's order.
    device_id: identifies the sender (default: a random UUID, as the app's).

    Frame numbers count from 0 per sender (``frame_number``) unless a call
    passes its own; the head and eye rotations are 0.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, subject: str = "KMTalk",
                 fps: float = 60, channel_names: Optional[Sequence[str]] = None,
                 device_id: Optional[str] = None):
        if float(fps) != int(fps) or not 1 <= int(fps) <= 240:
            raise ValueError(f"fps must be a whole number 1-240 (the packet's rate is a fraction of integers), got {fps}")
        self.address = (host, int(port))
        self.subject = subject
        self.fps = int(fps)
        self.device_id = device_id or str(uuid.uuid4()).upper()
        names = channel_names if channel_names is not None else BLENDSHAPE_NAMES[:52]
        self._slots = slots(names)
        if not any(slot is not None for slot in self._slots):
            raise ValueError("none of the channels is an ARKit blendshape Live Link Face carries")
        _name_bytes(subject, "subject")
        self.frame_number = 0
        self.packets_sent = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> "LiveLinkSender":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def packet(self, frame: Sequence[float], frame_number: int) -> bytes:
        """The packet for one frame of channel values."""
        values = [0.0] * VALUE_COUNT
        for channel, slot in enumerate(self._slots):
            if slot is not None:
                values[slot] = float(frame[channel])
        return encode_packet(values, frame_number, subject=self.subject, device_id=self.device_id,
                             rate=(self.fps, 1))

    def send_frames(self, frames: Sequence[Sequence[float]], first_frame: Optional[int] = None,
                    start_time: Optional[float] = None, latency_s: float = 0.0) -> int:
        """Sends one packet per frame (rows of channel values), numbered from
        ``first_frame`` (default: where the last call stopped). With
        ``start_time`` (a ``time.monotonic()`` value), waits until each
        frame's time plus ``latency_s`` after it: real-time pacing. Returns
        the number sent."""
        number = self.frame_number if first_frame is None else int(first_frame)
        for frame in frames:
            if start_time is not None:
                delay = start_time + number / self.fps + latency_s - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self._socket.sendto(self.packet(frame, number), self.address)
            number += 1
            self.packets_sent += 1
        self.frame_number = number
        return len(frames)

    def send_stream(self, stream: Iterable[Tuple[Sequence[Sequence[float]], float]]) -> int:
        """Sends every (frames, first_time) of ``Session.stream(...)``; frame
        numbers from each batch's time. Returns the number of packets sent."""
        sent = 0
        for frames, first_time in stream:
            sent += self.send_frames(frames, first_frame=round(first_time * self.fps))
        return sent
