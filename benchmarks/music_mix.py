"""What the music bed costs the audio stage: mastering a narration alone,
and with a bundled track (the one ``auto`` picks for the render benchmark's
topic) fitted to it, the first time in a process (decode and loudness of
the track measured) and again (both kept in memory).

    python benchmarks/music_mix.py [seconds]     # default 30 s of narration

Last line: alone_s=<no music> music_first_s=<first video> music_s=<next videos> cost_s=<music_s - alone_s> video_s=<length>
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the root first: its cache.py, not benchmarks/cache.py

from render_inputs import TITLE, make_narration  # noqa: E402  (the render benchmark's workload)


def main() -> None:
    from reelsmith.music import choose_music
    from reelsmith.render import music_bed
    from reelsmith.render.audio import join_voices, master_audio, narration_track

    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    with tempfile.TemporaryDirectory(prefix="reelsmith-music-") as folder:
        work = Path(folder)
        track = narration_track(make_narration(work, seconds))
        voice = join_voices(track, work / "voice.wav")
        choice = choose_music("auto", TITLE, "informative", work)

        def timed(music) -> float:
            started = time.perf_counter()
            master_audio(voice, work / "master.wav", music)
            return time.perf_counter() - started

        music_bed._decoded.cache_clear()
        first = timed(choice.path)
        alone = statistics.median(timed(None) for _ in range(5))
        warm = statistics.median(timed(choice.path) for _ in range(5))
    print(
        f"machine: {os.cpu_count()} cores (2-core sandbox); {seconds:g} s synthetic narration, "
        f"track {choice.track.id} ({choice.why}); median of 5"
    )
    print(
        f"alone_s={alone:.2f} music_first_s={first:.2f} music_s={warm:.2f} "
        f"cost_s={warm - alone:.2f} video_s={track.samples / track.rate:.1f}"
    )


if __name__ == "__main__":
    main()
