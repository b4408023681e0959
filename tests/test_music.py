"""Music that fits: the bundled library, auto / none / a mood / a track / an
upload, the bed fitted to the video (loop with a crossfade, trim with a
fade-out) on real decoded audio, and loudness with music on a real render."""

import io
import wave

import numpy as np
import pytest

from app import create_app
from pipeline import Pipeline
from reelsmith.music import MOODS, choose_music, mood_for, tracks
from reelsmith.render.audio import master_audio
from reelsmith.request import CreateRequest
from tests.helpers import make_settings, poll, tiny_settings
from tests.helpers.media import loudness, make_tone

RATE = 48000


# -- the library and the choice ------------------------------------------------


def test_the_library_has_28_tracks_in_5_moods_with_tempo_and_key():
    found = tracks()
    assert len(found) == 28
    counts = {mood: sum(t.mood == mood for t in found) for mood in MOODS}
    assert counts == {"calm": 5, "energetic": 5, "happy": 6, "nostalgic": 6, "tender": 6}
    assert all(t.path.is_file() and t.path.parent.name == t.mood for t in found)
    assert {t.id: t.tempo for t in found}["calm_acoustic_1"] == 68
    assert {t.id: t.key for t in found}["nostalgic_electronic_2"] == "Bb minor"
    assert all(t.tempo and t.key for t in found)
    assert "MIT" in found[0].to_dict()["licence"]


@pytest.mark.parametrize(
    "topic, tone, mood",
    [
        ("a morning run", "informative", "energetic"),
        ("the history of coffee", "informative", "nostalgic"),
        ("cute puppies", "informative", "happy"),
        ("grandma's kitchen", "informative", "tender"),
        ("the secret life of the octopus", "informative", "calm"),  # no word says: calm
        ("the secret life of the octopus", "playful", "happy"),  # the tone decides
        ("a morning run", "calm", "calm"),
    ],
)
def test_auto_takes_its_mood_from_the_tone_and_the_topic(tmp_path, topic, tone, mood):
    assert mood_for(topic, tone)[0] == mood
    choice = choose_music("auto", topic, tone, tmp_path)
    assert choice.source == "library" and choice.track.mood == mood
    assert choice.path == choice.track.path and choice.path.is_file()
    again = choose_music("auto", topic, tone, tmp_path)
    assert again.track == choice.track  # deterministic: the same topic, the same track
    result = choice.to_dict()
    assert result["track"] == choice.track.id and "MIT" in result["licence"]
    assert result["why"].startswith(f"auto: {mood}")


def test_different_topics_of_one_mood_spread_over_its_tracks(tmp_path):
    topics = [f"ocean {word}" for word in "waves whales tides reefs kelp salt ice".split()]
    picked = {choose_music("auto", t, "informative", tmp_path).track.id for t in topics}
    assert len(picked) >= 3 and all(p.startswith("calm_") for p in picked)


def test_none_a_mood_a_track_and_an_upload(tmp_path):
    none = choose_music("none", "tea", "informative", tmp_path)
    assert none.path is None and none.to_dict()["source"] == "none"
    tender = choose_music("tender", "a morning run", "excited", tmp_path)
    assert tender.track.mood == "tender"  # asked for: the tone and topic do not matter
    track = choose_music("happy_electronic_2", "tea", "informative", tmp_path)
    assert track.track.id == "happy_electronic_2" and track.path.name == "happy_electronic_2.opus"
    upload = choose_music("0" * 32 + ".mp3", "tea", "informative", tmp_path)
    assert upload.path == tmp_path / ("0" * 32 + ".mp3") and upload.to_dict()["source"] == "upload"


def test_without_the_library_auto_is_no_music_and_says_why(tmp_path, monkeypatch):
    from reelsmith.music import choosing

    monkeypatch.setattr(choosing, "tracks", lambda: ())
    choice = choose_music("auto", "a morning run", "informative", tmp_path)
    assert choice.path is None and choice.source == "none"
    assert "immich-memories-music" in choice.to_dict()["why"]


def test_music_path_serves_auto_but_not_an_explicit_choice(tmp_path):
    bed = make_tone(tmp_path / "bed.mp3", seconds=1.0)
    pipeline = Pipeline(make_settings(tmp_path, music_path=bed))
    assert pipeline.music_choice(CreateRequest(topic="tea")).path == bed
    assert pipeline.music_choice(CreateRequest(topic="tea")).to_dict()["file"] == "bed.mp3"
    assert pipeline.music(CreateRequest(topic="tea", music="calm")).parent.name == "calm"
    assert pipeline.music(CreateRequest(topic="tea", music="none")) is None


@pytest.fixture
def queued_app(tmp_path):
    app = create_app(
        {"SETTINGS": make_settings(tmp_path), "START_WORKERS": False, "RUNNER": lambda t, r: {}}
    )
    yield app
    app.extensions["reelsmith"].shutdown(5)


def test_the_api_takes_a_value_in_json_or_a_form_and_a_file_in_multipart(queued_app, tmp_path):
    client = queued_app.test_client()

    def stored(**kwargs):
        reply = client.post("/api/create", **kwargs)
        assert reply.status_code == 202, reply.get_json()
        return client.get(reply.get_json()["status_url"]).get_json()["request"]["music"]

    assert stored(json={"topic": "tea"}) == "auto"
    assert stored(json={"topic": "tea", "music": " Calm "}) == "calm"
    assert stored(json={"topic": "tea", "music": "tender_acoustic_2"}) == "tender_acoustic_2"
    assert stored(data={"topic": "tea", "music": "none"}) == "none"
    tone = make_tone(tmp_path / "m.wav", seconds=1.0).read_bytes()
    multipart = {"topic": "tea", "music": "happy"}
    assert stored(data=multipart, content_type="multipart/form-data") == "happy"
    file = {"topic": "tea", "music": [(io.BytesIO(tone), "m.wav"), "happy"]}  # a file wins
    name = stored(data=file, content_type="multipart/form-data")
    assert name.endswith(".wav") and (tmp_path / "instance" / "uploads" / name).is_file()
    bad = client.post("/api/create", json={"topic": "tea", "music": "../../etc/passwd.mp3"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "music"


def test_get_api_music_lists_every_track_with_a_preview(queued_app):
    client = queued_app.test_client()
    body = client.get("/api/music").get_json()
    assert len(body["tracks"]) == 28 and body["moods"] == list(MOODS)
    first = body["tracks"][0]
    assert {"id", "mood", "tempo", "preview_url", "licence"} <= set(first)
    assert first["preview_url"] == f"/api/music/{first['id']}/preview"
    audio = client.get(first["preview_url"])
    assert audio.status_code == 200 and audio.mimetype == "audio/ogg"
    assert audio.data[:4] == b"OggS"
    assert audio.data == next(t for t in tracks() if t.id == first["id"]).path.read_bytes()
    missing = client.get("/api/music/no_such_track/preview")
    assert missing.status_code == 404 and "no track" in missing.get_json()["error"]


# -- the bed on real decoded audio ----------------------------------------------


def _write_wav(path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())


def _sine(freq: float, seconds: float, rate: int, level: float = 0.5) -> np.ndarray:
    return level * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)


def _voice(path, seconds: float) -> None:
    """A "voice": a 3 kHz tone at 5.5-6 s, silence elsewhere (22050 Hz mono)."""
    rate = 22050
    voice = np.zeros(int(seconds * rate))
    voice[int(5.5 * rate) : int(6.0 * rate)] = _sine(3000, 0.5, rate)
    _write_wav(path, voice, rate)


def _decoded(path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == RATE and w.getnchannels() == 2
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return data.reshape(-1, 2)[:, 0].astype(np.float64) / 32768


def _db(samples: np.ndarray, start: float, end: float, freq: float | None = None) -> float:
    """Level (dB) between start and end seconds: all of it, or the band around ``freq``."""
    part = samples[int(start * RATE) : int(end * RATE)]
    if freq is None:
        power = np.mean(part**2)
    else:
        spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part)))) ** 2
        bins = np.fft.rfftfreq(len(part), 1 / RATE)
        power = spectrum[np.abs(bins - freq) < 30].sum() / len(part) ** 2
    return 10 * np.log10(power + 1e-20)


def test_a_short_track_loops_with_a_crossfade_and_fades_in_and_out(tmp_path):
    # 3 s of music: 440 Hz for 1.5 s, then 880 Hz; the crossfade is a quarter of it (0.75 s)
    music = np.concatenate([_sine(440, 1.5, 44100), _sine(880, 1.5, 44100)])
    _write_wav(tmp_path / "music.wav", music, 44100)
    _voice(tmp_path / "voice.wav", 10.0)
    out = master_audio(tmp_path / "voice.wav", tmp_path / "out.wav", tmp_path / "music.wav")
    mix = _decoded(out)
    assert len(mix) == 10 * RATE  # exactly the video's length
    # the first loop's seam (2.25-3.0 s): the end (880) fades out while the start (440) fades in
    seam_low, seam_high = _db(mix, 2.45, 2.8, 440), _db(mix, 2.45, 2.8, 880)
    assert abs(seam_low - seam_high) < 6
    plain = _db(mix, 1.7, 2.2, 880)
    assert _db(mix, 1.7, 2.2, 440) < plain - 25  # before the seam: the end of the track only
    assert abs(_db(mix, 2.4, 2.9) - _db(mix, 1.7, 2.2)) < 2  # no dip, no bump
    # the second round starts 0.75 s in: 440 Hz until 3.75 s, then 880 Hz
    assert _db(mix, 3.2, 3.6, 880) < _db(mix, 3.2, 3.6, 440) - 25
    # music from the first sample, full within 0.5 s; faded out at the end
    full = _db(mix, 0.6, 1.2)
    assert _db(mix, 0.0, 0.03) < full - 12 and _db(mix, 0.45, 0.55) > full - 2
    assert _db(mix, 9.8, 10.0) < _db(mix, 7.0, 7.6) - 15


@pytest.mark.parametrize("kind", ["bundled", "upload"])
def test_a_long_track_is_trimmed_with_a_fade_out_from_its_start(tmp_path, kind):
    if kind == "bundled":
        music = next(t for t in tracks() if t.id == "calm_acoustic_1").path  # 32 s, kept decoded
    else:  # 40 s, 3.5 MB: decoded only as far as the video goes
        rng = np.random.default_rng(7)
        music = tmp_path / "long.wav"
        _write_wav(music, 0.3 * rng.standard_normal(40 * 44100), 44100)
    _voice(tmp_path / "voice.wav", 10.0)
    out = master_audio(tmp_path / "voice.wav", tmp_path / "out.wav", music)
    mix = _decoded(out)
    assert len(mix) == 10 * RATE
    # the video's music is the track from its first sample: the same waveform at 1-4 s,
    # within the 2 ms the mastering's limiter looks ahead
    from reelsmith.render.music_bed import decode

    original = decode(music)[0][:, 0].astype(np.float64)
    a = mix[1 * RATE : 4 * RATE]
    lag = max(range(-240, 241), key=lambda k: np.dot(a, original[RATE + k : 4 * RATE + k]))
    assert abs(lag) <= 120  # 2.5 ms
    assert np.corrcoef(a, original[RATE + lag : 4 * RATE + lag])[0, 1] > 0.95
    middle = _db(mix, 7.0, 7.8)
    assert _db(mix, 9.85, 10.0) < middle - 15  # faded out at the video's end
    assert _db(mix, 0.0, 0.02) < _db(mix, 0.5, 1.0) - 10  # and in at its start


# -- a real render ----------------------------------------------------------------


def test_a_video_with_auto_music_names_its_track_and_is_at_minus_14_lufs(tmp_path):
    app = create_app({"SETTINGS": tiny_settings(tmp_path)})
    client = app.test_client()
    try:
        script = "Running in the morning wakes you up. Your heart gets stronger every week."
        reply = client.post("/api/create", json={"topic": "a morning run", "script": script})
        assert reply.status_code == 202, reply.get_json()
        task = poll(client, reply.get_json()["task_id"], timeout=120)
    finally:
        app.extensions["reelsmith"].shutdown(30)
    assert task["status"] == "done", task
    music = task["result"]["music"]
    assert music["source"] == "library" and music["mood"] == "energetic"
    assert music["track"].startswith("energetic_") and "MIT" in music["licence"]
    video = tmp_path / "instance" / "videos" / f"{task['id']}.mp4"
    integrated, true_peak = loudness(video)
    assert integrated == pytest.approx(-14.0, abs=1.0) and true_peak <= -1.0
