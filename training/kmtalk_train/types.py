"""Data types shared across the corpus pipeline."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

import numpy as np


@dataclass
class Segment:
    """One timed phone. `phone` is in the engine's own notation (`raw`) until mapped to the
    universal inventory (IPA, see phones.py); times are seconds from the utterance start."""
    start: float
    end: float
    phone: str
    raw: str = ""

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Utterance:
    """Synthesized or recorded speech with its phone segmentation.

    samples: float32 mono in -1..1 at `sample_rate`. segments cover the audio in order,
    pauses included (phone "_" after mapping). engine: "espeak-ng", "flite", "festival",
    "human". voice: engine-specific voice name; speaker: a stable id used for splits.
    """
    samples: np.ndarray
    sample_rate: int
    segments: List[Segment]
    text: str
    language: str
    engine: str
    voice: str
    speaker: str
    params: dict = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate
