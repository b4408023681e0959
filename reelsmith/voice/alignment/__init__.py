"""Forced alignment: word times for audio that came without them (gTTS,
OpenAI-compatible voices, your own recording), found against espeak-ng
saying the same words. ``features`` (speaker-robust frames), ``aligner``
(one sentence: espeak reference, DTW, mapped word starts, cost),
``recording`` (a whole recording cut into sentences; a sentence's timings
with their fallback)."""
