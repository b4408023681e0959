"""The one create request model: its checks, its stored form, and what is derived from it."""

import json

import pytest

from app import create_app
from reelsmith.core.exceptions import BadRequest
from reelsmith.render.transitions import TRANSITIONS
from reelsmith.request import CreateRequest
from reelsmith.web.cli import NOT_OPTIONS
from tests.helpers import make_settings

# The stored task JSON's request, key for key, as it was before the model.
STORED_KEYS = [
    "topic",
    "script",
    "voice",
    "language",
    "length",
    "tone",
    "aspect",
    "fresh",
    "webhook_url",
    "music",
    "backgrounds",
    "font",
    "speed",
    "caption_style",
    "visuals",
    "transition",
    "transition_seconds",
    "scenes",
    "review",
    "revision_of",
    "lineage",
    "narration",
    "publish",
]


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {"SETTINGS": make_settings(tmp_path), "START_WORKERS": False, "RUNNER": lambda t, r: {}}
    )
    yield app
    app.extensions["reelsmith"].shutdown(5)


def test_json_and_form_give_the_same_request_stored_as_before(tmp_path):
    settings = make_settings(tmp_path)
    as_json = CreateRequest.parse(
        {
            "topic": " tea ",
            "length": 20,
            "fresh": True,
            "speed": 1.5,
            "caption_style": {"preset": "pop", "size": 60},
        },
        settings,
    )
    as_form = CreateRequest.parse(
        {
            "topic": "tea",
            "length": "20",
            "fresh": "on",
            "speed": "1.5",
            "caption_style": '{"preset": "pop", "size": 60}',
        },
        settings,
    )
    assert as_json == as_form
    stored = as_json.to_dict()
    assert list(stored) == STORED_KEYS
    assert stored["topic"] == "tea" and stored["length"] == 20 and stored["backgrounds"] == []
    assert json.loads(json.dumps(stored)) == stored
    assert CreateRequest.from_stored({**stored, "gone": 1}) == as_json  # old keys are skipped


def test_a_script_alone_names_the_video_and_empty_text_is_the_default(tmp_path):
    request = CreateRequest.parse(
        {"script": "Otters hold hands while they sleep. They float.", "voice": "", "tone": " "},
        make_settings(tmp_path),
    )
    assert request.topic == "Otters hold hands while they sleep. They float."
    assert (request.voice, request.tone, request.script is not None) == (
        "auto",
        "informative",
        True,
    )


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"topic": "ok", "shots": ["a"]}, "shots", "'shots' is not a field"),
        ({"topic": "ok", "scenes": ["a"]}, "scenes[0]", "scenes[0] must be an object"),
        ({"topic": "ok", "music": "x.mp3"}, "music", "a file goes in a multipart upload"),
        ({"topic": "ok", "music": "loud"}, "music", "music must be auto, none, a mood"),
        ({"topic": "ok", "length": 601}, "length", "length must be between 10 and 600 seconds"),
        ({"topic": "ok", "length": float("inf")}, "length", "length must be a whole number"),
        ({"topic": "ok", "speed": "fast"}, "speed", "speed must be a number"),
        ({"topic": "ok", "transition_seconds": 0}, "transition_seconds", "more than 0"),
        ({"topic": "ok", "tone": "x" * 41}, "tone", "tone is too long (41 characters, at most 40)"),
        ({"topic": "ok", "caption_style": {"size": 5}}, "caption_style.size", "caption_style.size"),
        ({"topic": "ok", "visuals": "nowhere"}, "visuals", "visuals must be one of auto"),
    ],
)
def test_a_bad_or_unknown_field_is_a_400_naming_it(app, body, field, message):
    reply = app.test_client().post("/api/create", json=body)
    assert reply.status_code == 400
    assert reply.get_json()["field"] == field and message in reply.get_json()["error"]
    assert app.extensions["reelsmith"].store.list() == []


def test_code_checks_types_and_bounds_and_parse_also_what_needs_the_settings(tmp_path):
    hook = "http://127.0.0.1:9/done"
    assert CreateRequest(topic="t", webhook_url=hook).webhook_url == hook  # a test's own server
    with pytest.raises(BadRequest) as refused:
        CreateRequest.parse({"topic": "t", "webhook_url": hook}, make_settings(tmp_path))
    assert refused.value.field == "webhook_url"
    with pytest.raises(BadRequest) as refused:
        CreateRequest(topic="t", length=5)
    assert refused.value.field == "length"
    with pytest.raises(BadRequest) as refused:
        CreateRequest()
    assert refused.value.field == "topic"


def test_a_registered_transition_is_a_choice_everywhere_at_once(app, monkeypatch):
    monkeypatch.setitem(TRANSITIONS, "wipe", None)
    settings = app.config["SETTINGS"]
    assert "wipe" in CreateRequest.field_schemas(settings)["transition"]["enum"]
    assert CreateRequest.parse({"topic": "t", "transition": "wipe"}, settings).transition == "wipe"
    doc = app.test_client().get("/api/openapi.json").get_json()
    body = doc["paths"]["/api/create"]["post"]["requestBody"]["content"]
    assert "wipe" in body["application/json"]["schema"]["properties"]["transition"]["enum"]
    assert "wipe" in body["multipart/form-data"]["schema"]["properties"]["transition"]["enum"]


def test_the_openapi_create_body_is_the_model(app):
    settings = app.config["SETTINGS"]
    doc = app.test_client().get("/api/openapi.json").get_json()
    body = doc["paths"]["/api/create"]["post"]["requestBody"]["content"]
    as_json = body["application/json"]["schema"]
    assert as_json["properties"] == CreateRequest.field_schemas(settings)
    assert as_json["additionalProperties"] is False
    multipart = body["multipart/form-data"]["schema"]["properties"]
    assert set(multipart) == set(CreateRequest.model_fields)
    assert multipart["backgrounds"]["maxItems"] == CreateRequest.upload_fields()["backgrounds"].most


def test_every_request_field_is_a_cli_option_with_the_models_bounds(app):
    fields = CreateRequest.field_schemas(app.config["SETTINGS"])
    for command in ("create", "batch"):
        params = {p.name: p for p in app.cli.commands[command].params}
        for name, schema in fields.items():
            if name in NOT_OPTIONS:
                assert name not in params or name == "topic"
                continue
            option = params[name]
            assert option.opts == [f"--{name.replace('_', '-')}"]
            assert option.default == schema.get("default")
            if name in CreateRequest.upload_fields():  # --music: a value or a file's path
                assert option.type.name == "text" and "a file's path" in option.help
            elif "enum" in schema:
                assert list(option.type.choices) == schema["enum"]
            if "maximum" in schema:
                assert option.type.max == schema["maximum"]
                assert option.type.min == schema.get("minimum", schema.get("exclusiveMinimum"))


def test_the_cli_refuses_what_the_api_refuses_naming_the_option(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create", "tea", "--caption-style", '{"size": 5}'])
    assert result.exit_code == 2 and "--caption-style" in result.output
    assert "caption_style.size" in result.output
    result = runner.invoke(args=["create", "x" * 201])
    assert result.exit_code == 2 and "TOPIC" in result.output and "too long" in result.output
