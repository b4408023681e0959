"""Asking an OpenAI-compatible server for a script: the JSON schema the
model answers with, the prompts, one structured-output request with the
SDK's errors turned into plain messages, and the reply made a ``Script``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError

from reelsmith.core.exceptions import InvalidScriptReply, ScriptError, ScriptServerUnreachable
from reelsmith.core.languages import count_unit
from reelsmith.core.words import unique
from reelsmith.script.text import MAX_SENTENCES, MIN_SENTENCES, Script, WordBudget, derive_scenes
from reelsmith.script.words import clean_terms, hashtags_for, title_case

if TYPE_CHECKING:
    from openai import APIStatusError, OpenAI


class SceneModel(BaseModel):
    """What to show while one sentence is spoken."""

    search_terms: list[str]  # 1-3 short English stock-footage searches
    visual_prompt: str  # for an image model


class ScriptModel(BaseModel):
    """The JSON the model must answer with (sent as a strict JSON schema;
    a reply without ``scenes`` still parses, and they are derived)."""

    title: str
    sentences: list[str]
    description: str
    hashtags: list[str]
    scenes: list[SceneModel] = Field(default_factory=list)  # one per sentence


SYSTEM_PROMPT = (
    "You write narration scripts for vertical short videos (YouTube Shorts, Instagram Reels, "
    "TikTok). Every sentence is spoken by a voice and shown on screen as one caption, so each "
    "sentence carries one idea in plain spoken language: no lists, emojis, hashtags or stage "
    "directions. Structure: a hook, what it is, why it matters, a surprising fact, a takeaway, "
    "and a short call to follow. State only facts you are sure of. Keep to the length asked "
    "for: the video is cut to it. For every sentence, also describe what to show while it is "
    "spoken. Answer with JSON that matches the schema."
)


@dataclass(frozen=True)
class Writer:
    """The server a script is asked of."""

    name: str  # "openai" | "ollama" | "lmstudio"
    client: OpenAI
    model: str
    base_url: str
    timeout: float
    discovered: bool  # found on this machine, not configured


def complete(writer: Writer, messages: list[dict[str, str]], secret: str | None) -> ScriptModel:
    """One structured-output request; SDK errors become ``ScriptError``
    (``ScriptServerUnreachable`` when nothing answers; ``InvalidScriptReply`` when asking
    again may help). ``secret`` (the API key) never appears in a message."""
    import openai

    try:
        completion = writer.client.chat.completions.parse(
            model=writer.model, messages=messages, response_format=ScriptModel
        )
    except ValidationError as exc:  # the content is not JSON of the schema's shape
        raise InvalidScriptReply(_describe(exc)) from exc
    except openai.LengthFinishReasonError as exc:
        raise InvalidScriptReply("it was cut off at the length limit") from exc
    except openai.ContentFilterFinishReasonError as exc:
        raise ScriptError("the script server's content filter blocked the reply") from exc
    except openai.AuthenticationError as exc:
        raise ScriptError("the API key was rejected (HTTP 401): check OPENAI_API_KEY") from exc
    except openai.RateLimitError as exc:
        raise ScriptError(
            "rate limit or quota exceeded (HTTP 429): wait a little, or check the account's quota"
        ) from exc
    except openai.APITimeoutError as exc:
        raise ScriptError(f"the script server did not answer within {writer.timeout:g} s") from exc
    except openai.APIConnectionError as exc:
        raise ScriptServerUnreachable(
            f"could not connect to the script server at {writer.base_url}"
        ) from exc
    except openai.NotFoundError as exc:
        raise ScriptError(
            f"the script server answered 404 for model {writer.model!r}: check "
            "OPENAI_MODEL and OPENAI_BASE_URL"
        ) from exc
    except openai.APIStatusError as exc:
        if 400 <= exc.status_code < 500:  # say why: e.g. no JSON-schema support
            raise ScriptError(
                f"the script server refused the request (HTTP {exc.status_code})"
                f"{_server_reason(exc, secret)}"
            ) from exc
        raise ScriptError(f"the script server failed (HTTP {exc.status_code})") from exc
    except openai.OpenAIError as exc:
        raise ScriptError(f"the script request failed ({type(exc).__name__})") from exc
    if not completion.choices:
        raise InvalidScriptReply("it had no choices")
    message = completion.choices[0].message
    if message.refusal:
        raise ScriptError(f"the model refused to write this script: {message.refusal[:200]}")
    if message.parsed is None:
        raise InvalidScriptReply("it was empty")
    return message.parsed


def _server_reason(exc: APIStatusError, secret: str | None) -> str:
    """ ": <the server's error message>", short and without the API key in
    it ("" when the server gave none)."""
    text = exc.message.removeprefix(f"Error code: {exc.status_code}").lstrip(" -")
    if secret:
        text = text.replace(secret, "***")
    text = re.sub(r"\bsk-[\w-]{6,}", "sk-***", text)[:200]
    return f": {text}" if text else ""


def user_prompt(topic: str, language: str, budget: WordBudget, tone: str, style: str) -> str:
    seconds, unit = f"{budget.target_seconds:g}", count_unit(language)
    if unit is None:
        length = f"about {seconds} seconds of video: {budget.sentences} short sentences."
    else:
        length = (
            f"about {seconds} seconds of video: {budget.sentences} sentences and "
            f"{budget.words} {unit} in all (between {budget.low} and {budget.high}); the "
            f"voice reads {budget.words_per_second:.1f} {unit} a second."
        )
    return (
        f"Topic: {topic}\n"
        f"Language: write the title, sentences and description in the language with code "
        f"'{language}'.\n"
        f"Tone: {tone}\n"
        f"Length: {length}\n"
        "Title: under 60 characters. Description: one or two sentences for the post. "
        "Hashtags: 3 to 5 single lowercase words, without '#'.\n"
        "Scenes: one per sentence, in the same order. search_terms: 1 to 3 short English "
        'searches for stock footage of concrete things that can be filmed (like "octopus" or '
        '"coral reef"), the most specific first. visual_prompt: an English prompt for an image '
        f'model: what the sentence shows, then "{style}, vertical photo"; no text in the image.'
    )


def length_request(script: Script, budget: WordBudget) -> str:
    unit = count_unit(script.language)
    return (
        f"That script has {script.words} {unit} in {len(script.sentences)} sentences. It "
        f"must have about {budget.words} {unit} (between {budget.low} and {budget.high}) in "
        f"{budget.sentences} sentences to fill {budget.target_seconds:g} seconds. Write it "
        "again at that length, with one scene per sentence."
    )


def length_miss(script: Script, budget: WordBudget) -> str:
    """Why the script's length is far off the budget ("" when it is not)."""
    unit = count_unit(script.language)
    if unit is None or budget.low <= script.words <= budget.high:
        return ""
    return f"{script.words} {unit} for a budget of {budget.words}"


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def script_from_reply(
    reply: ScriptModel, topic: str, language: str, style: str, source: str
) -> Script:
    kept = [(" ".join(s.split()), i) for i, s in enumerate(reply.sentences) if s.strip()]
    sentences = [s for s, _ in kept]
    if not MIN_SENTENCES <= len(sentences) <= MAX_SENTENCES:
        raise InvalidScriptReply(
            f"expected {MIN_SENTENCES} to {MAX_SENTENCES} sentences, got {len(sentences)}"
        )
    tags = unique(re.sub(r"[^\w]", "", tag.lower()) for tag in reply.hashtags)
    script = Script(
        title=reply.title.strip() or title_case(topic),
        sentences=sentences,
        description=reply.description.strip(),
        hashtags=tags[:5] or hashtags_for(topic),
        source=source,
        language=language,
    )
    derived = derive_scenes(sentences, topic, style)
    if len(reply.scenes) != len(reply.sentences):
        script.search_terms, script.visual_prompts = derived
        script.note = (
            f"the model described {len(reply.scenes)} scenes for "
            f"{len(reply.sentences)} sentences; search terms and visual prompts were "
            "derived from the sentences"
        )
        return script
    for n, (_, i) in enumerate(kept):  # a scene left blank is derived
        scene = reply.scenes[i]
        terms = clean_terms(scene.search_terms)
        prompt = " ".join(scene.visual_prompt.split())
        script.search_terms.append(terms or derived[0][n])
        script.visual_prompts.append(prompt or derived[1][n])
    return script
