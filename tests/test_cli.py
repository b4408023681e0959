"""`flask --app app create` and `batch`: the same pipeline from the command line."""

from app import create_app
from reelsmith.core.settings import RenderSettings, Settings
from tests.helpers.media import probe


def cli(tmp_path):
    settings = Settings.build(
        data_dir=tmp_path / "instance",
        cache_dir=tmp_path / "cache",
        render=RenderSettings(width=180, height=320, preset="veryfast"),
    )
    return create_app({"SETTINGS": settings, "START_WORKERS": False}).test_cli_runner()


def test_create_renders_one_video(tmp_path):
    script = tmp_path / "script.txt"
    script.write_text("Tea is a leaf. People brew it hot. Some drink it cold.")
    out = tmp_path / "tea.mp4"
    result = cli(tmp_path).invoke(
        args=["create", "tea", "--script", str(script), "--out", str(out), "--aspect", "1:1"]
    )
    assert result.exit_code == 0, result.output
    assert "voice piper, script user" in result.output
    info = probe(out)
    assert (info.width, info.height) == (180, 180) and info.audio
    assert out.with_suffix(".srt").read_text().count("-->") == 3


def test_a_voice_that_cannot_speak_the_language_is_refused_before_any_work(tmp_path):
    script = tmp_path / "script.txt"
    script.write_text("Hallo Welt. Tee ist gut.")
    result = cli(tmp_path).invoke(
        args=[
            "create",
            "tee",
            "--script",
            str(script),
            "--voice",
            "piper",
            "--language",
            "de",
            "--out",
            str(tmp_path / "x.mp4"),
        ]
    )
    assert result.exit_code == 2
    assert "--voice" in result.output and "the piper voice does not speak 'de'" in result.output
    assert not (tmp_path / "x.mp4").exists()


def test_create_reports_a_failure_with_its_stage(tmp_path):
    settings = Settings.build(
        data_dir=tmp_path / "instance",
        cache_dir=tmp_path / "cache",
        music_path=tmp_path / "gone.mp3",
        render=RenderSettings(width=180, height=320, preset="veryfast"),
    )
    runner = create_app({"SETTINGS": settings, "START_WORKERS": False}).test_cli_runner()
    result = runner.invoke(args=["create", "tea", "--out", str(tmp_path / "x.mp4")])
    assert result.exit_code == 1
    assert "render: the music bed in MUSIC_PATH does not exist: gone.mp3" in result.output
    assert not (tmp_path / "x.mp4").exists()


def test_cli_takes_speed_visuals_and_transition(tmp_path):
    runner = cli(tmp_path)
    for args, hint in (
        (["--speed", "3"], "--speed"),
        (["--visuals", "pexels"], "--visuals"),
        (["--transition", "wipe"], "--transition"),
        (["--voice", "edge:nope"], "--voice"),
        (["--transition-seconds", "3"], "--transition-seconds"),
    ):
        result = runner.invoke(args=["create", "tea", *args])
        assert result.exit_code == 2 and hint in result.output, result.output
    script = tmp_path / "s.txt"
    script.write_text("Tea is a leaf. People brew it hot.")
    slow, fast = tmp_path / "slow.mp4", tmp_path / "fast.mp4"
    for out, speed in ((slow, "0.8"), (fast, "1.6")):
        result = runner.invoke(
            args=[
                "create",
                "tea",
                "--script",
                str(script),
                "--out",
                str(out),
                "--speed",
                speed,
                "--transition",
                "crossfade",
                "--transition-seconds",
                "0.8",
            ]
        )
        assert result.exit_code == 0, result.output
    assert probe(fast).duration < 0.8 * probe(slow).duration


def test_batch_renders_every_topic(tmp_path):
    topics = tmp_path / "topics.txt"
    topics.write_text("# my list\nwhy octopuses have three hearts\n\nhow do bees make honey\n")
    out = tmp_path / "videos"
    result = cli(tmp_path).invoke(args=["batch", str(topics), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "rendering 2 videos" in result.output
    assert sorted(p.name for p in out.glob("*.mp4")) == ["001.mp4", "002.mp4"]
    assert all(probe(p).width == 180 for p in out.glob("*.mp4"))
    assert not any(p.name.startswith(".") for p in out.iterdir())  # no work folders left


def test_the_flask_command_does_not_drain_the_web_queue(tmp_path):
    settings = Settings.build(
        data_dir=tmp_path / "instance",
        cache_dir=tmp_path / "cache",
        under_flask_cli=True,  # FLASK_RUN_FROM_CLI=true: what the `flask` command sets
    )
    app = create_app({"SETTINGS": settings, "RUNNER": lambda task, report: {}})
    tasks = app.extensions["reelsmith"]
    assert not tasks.started  # `flask create` / `batch` leave queued web tasks alone
    client = app.test_client()
    client.get("/api/tasks")  # `flask run`: the first request starts the workers
    assert tasks.started
    tasks.shutdown(5)


def test_create_with_a_music_bed(tmp_path):
    from reelsmith.core.pauses import LEAD_IN
    from tests.helpers.media import band_volume_db, make_tone

    script = tmp_path / "script.txt"
    script.write_text("Tea is a leaf. People brew it hot.")
    music = make_tone(tmp_path / "bed.mp3", seconds=2.0, frequency=5000)
    runner = cli(tmp_path)
    with_music, without = tmp_path / "music.mp4", tmp_path / "plain.mp4"
    by_track = tmp_path / "track.mp4"
    for out, extra, said in (
        (with_music, ["--music", str(music)], "music file"),
        (without, ["--music", "none"], "music none"),
        (by_track, ["--music", "happy_acoustic_2"], "music happy_acoustic_2"),
    ):
        result = runner.invoke(
            args=["create", "tea", "--script", str(script), "--out", str(out), *extra]
        )
        assert result.exit_code == 0, result.output
        assert said in result.output
    # The lead-in has no voice: only the bed can sound there.
    assert band_volume_db(with_music, 0.1, LEAD_IN, 5000) > -70
    assert band_volume_db(without, 0.1, LEAD_IN, 5000) < -90

    not_audio = tmp_path / "notes.mp3"
    not_audio.write_text("not audio")
    out = tmp_path / "bad.mp4"
    result = runner.invoke(
        args=[
            "create",
            "tea",
            "--script",
            str(script),
            "--out",
            str(out),
            "--music",
            str(not_audio),
        ]
    )
    assert result.exit_code == 1
    assert "render: the music bed notes.mp3 could not be read: " in result.output
    assert "Invalid data" in result.output and not out.exists()
    refused = runner.invoke(args=["create", "tea", "--music", "loud"])  # not a value, nor a file
    assert refused.exit_code == 2 and "--music" in refused.output
    assert "music must be auto, none, a mood" in refused.output


def test_the_mcp_command_hands_the_app_to_mcp_server(tmp_path, monkeypatch):
    import sys
    import types

    import reelsmith.web

    served = []
    fake = types.ModuleType("mcp_server")
    fake.run = served.append
    monkeypatch.setitem(sys.modules, "reelsmith.web.mcp_server", fake)
    monkeypatch.setattr(reelsmith.web, "mcp_server", fake, raising=False)  # if imported before
    settings = Settings.build(data_dir=tmp_path / "instance", cache_dir=tmp_path / "cache")
    app = create_app({"SETTINGS": settings, "START_WORKERS": False})
    result = app.test_cli_runner().invoke(args=["mcp"])
    assert result.exit_code == 0, result.output
    assert served == [app]


def test_create_takes_scenes_from_a_file(tmp_path):
    scenes = tmp_path / "scenes.json"
    scenes.write_text('[{"text": "Tea is a leaf."}, {"text": "People brew it hot.", "seconds": 3}]')
    out = tmp_path / "tea.mp4"
    runner = cli(tmp_path)
    result = runner.invoke(args=["create", "tea", "--scenes", str(scenes), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.with_suffix(".srt").read_text().count("-->") == 2
    missing = runner.invoke(args=["create", "tea", "--scenes", str(tmp_path / "no.json")])
    assert missing.exit_code == 2 and "--scenes" in missing.output
    bad = runner.invoke(args=["create", "tea", "--scenes", '[{"text": " "}]'])
    assert bad.exit_code == 2 and "scenes[0].text is required" in bad.output
