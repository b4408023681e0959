"""Turn a topic into a narration script.

Three sources, in order of preference:

* the user's own script (``user_script=``): split into sentences, no LLM;
* an OpenAI-compatible server: the one configured (``OPENAI_API_KEY`` and/or
  ``OPENAI_BASE_URL``), else one found running on this machine (Ollama, LM
  Studio; see ``local_llm.py``). The official ``openai`` SDK, over pooled
  ``httpx`` clients, with structured JSON output checked against a strict
  schema;
* the built-in offline writer (no server; ``offline_writer.offline_script``): a deterministic,
  template-based script, varied by topic. It writes English only, so its
  scripts always say ``language="en"`` (the voice follows that field); a
  script in another language needs a model or the user's own text.

Length: a script is written to a word budget (``word_budget``): the target
length times the voice's pace, less the pauses the render puts around the
sentences, so the finished video, not only its speech, lasts as asked.

Every script carries, per sentence, stock-footage search terms and a prompt
for an image model (``Script.search_terms``, ``Script.visual_prompts``): the
model writes them; otherwise they are derived from the sentence and topic.

Scripts from a model and the offline writer are cached (when a ``Cache`` is
given) under everything that changes the answer; user scripts are not.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from cache import Cache, make_key
from reelsmith.core.exceptions import ScriptError
from reelsmith.core.http_pool import PooledHTTP
from reelsmith.core.settings import Settings
from reelsmith.script import local_llm
from reelsmith.script.text import (  # noqa: F401 (GAP, LEAD_IN, TAIL, estimated_seconds: the stage's own names)
    GAP,
    LEAD_IN,
    MAX_SENTENCES,
    MIN_SENTENCES,
    PROMPT_VERSION,
    TAIL,
    Script,
    WordBudget,
    _clean_terms,
    _hashtags,
    _title_case,
    _unique,
    _unit,
    derive_scenes,
    estimated_seconds,
    script_from_text,
    style_for,
    word_budget,
)

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
class _Writer:
    """The server a script is asked of."""

    name: str  # "openai" | "ollama" | "lmstudio"
    client: OpenAI
    model: str
    base_url: str
    timeout: float
    discovered: bool  # found on this machine, not configured


class ContentGenerator(PooledHTTP):
    """Writes scripts. Every instance shares one pooled ``httpx.Client``
    (``ContentGenerator._get_http_client()``, created lazily under a lock:
    10 keep-alive connections, 20 at most), so repeated calls reuse their
    connections instead of opening new ones. Servers found on this machine
    get their own pooled client, which ignores proxy settings."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        cache: Cache | None = None,
        settings: Settings | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ):
        """``api_key=""`` asks for the offline writer (no server, no probe).
        With neither a key nor a base URL (arguments or settings), servers
        on this machine are looked for (``DISCOVER_LOCAL_LLM``)."""
        settings = settings if settings is not None else Settings.from_env()
        self.settings = settings
        self.api_key = api_key if api_key is not None else settings.openai_api_key
        configured_url = base_url if base_url is not None else settings.openai_base_url
        self.model = model or settings.openai_model
        self.timeout = float(timeout if timeout is not None else settings.openai_timeout)
        self._local_timeout = float(timeout if timeout is not None else settings.local_llm_timeout)
        self.max_retries = max_retries if max_retries is not None else settings.openai_max_retries
        self.cache = cache
        self.calls = 0  # requests sent to the LLM (a retried malformed reply counts twice)
        self._calls_lock = threading.Lock()
        self.client: OpenAI | None = None  # the configured server's client
        wants_offline = api_key == ""
        if self.api_key or (configured_url and not wants_offline):
            from openai import (
                OpenAI,
            )  # imported here: it takes ~0.7 s and offline use never needs it

            self.client = OpenAI(
                api_key=self.api_key or "none",  # local servers need no key; the SDK wants one
                base_url=configured_url,
                http_client=self._get_http_client(),
                max_retries=self.max_retries,
                timeout=self.timeout,
            )
        self.discovers = self.client is None and not wants_offline and settings.discover_local_llm
        self._local_clients: dict[str, OpenAI] = {}
        self._local_lock = threading.Lock()
        if self.discovers:
            local_llm.discover(settings)  # at start-up, so the log says which writer is in use

    # -- which writer ---------------------------------------------------------
    def _writer(self) -> _Writer | None:
        """The server to ask now (None: the offline writer). A probe that
        found nothing is repeated at most every ``local_llm.RETRY_SECONDS``."""
        if self.client is not None:
            return _Writer(
                "openai",
                self.client,
                self.model,
                str(self.client.base_url).rstrip("/"),
                self.timeout,
                False,
            )
        if not self.discovers:
            return None
        server = local_llm.discover(self.settings).server
        if server is None:
            return None
        with self._local_lock:
            client = self._local_clients.get(server.base_url)
            if client is None:
                from openai import OpenAI

                client = self._local_clients[server.base_url] = OpenAI(
                    api_key="local",
                    base_url=server.base_url,
                    http_client=local_llm.http_client(),
                    max_retries=self.max_retries,
                    timeout=self._local_timeout,
                )
        return _Writer(
            server.name,
            client,
            server.pick_model(self.model),
            server.base_url,
            self._local_timeout,
            True,
        )

    @property
    def mode(self) -> str:
        """ "openai", "ollama", "lmstudio" or "offline"."""
        writer = self._writer()
        return writer.name if writer is not None else "offline"

    @property
    def base_url(self) -> str | None:
        """The script server's address (``None`` offline)."""
        writer = self._writer()
        return writer.base_url if writer is not None else None

    def writer_status(self) -> dict[str, Any]:
        """Which script writer is in use, for the page and the API:
        ``{"writer": "ollama", "model": ..., "base_url": ..., "discovered": True}``
        or ``{"writer": "offline", "hint": <how to start a local model>,
        "reasons": [<why no server is used>]}``."""
        writer = self._writer()
        if writer is not None:
            return {
                "writer": writer.name,
                "model": writer.model,
                "base_url": writer.base_url,
                "discovered": writer.discovered,
            }
        if self.discovers:
            reasons = list(local_llm.discover(self.settings).notes)
        elif self.api_key == "":
            reasons = ["the offline writer was asked for"]
        else:
            reasons = [
                "DISCOVER_LOCAL_LLM is off, and OPENAI_API_KEY and OPENAI_BASE_URL are not set"
            ]
        return {"writer": "offline", "hint": local_llm.HINT, "reasons": reasons}

    # -- scripts ------------------------------------------------------------------
    def generate_script(
        self,
        topic: str,
        *,
        language: str = "en",
        target_seconds: float = 30,
        tone: str = "informative",
        user_script: str | None = None,
        fresh: bool = False,
        words_per_second: float | None = None,
    ) -> Script:
        """A script for ``topic`` that fills ``target_seconds`` of video when
        read at ``words_per_second`` (default ``WORDS_PER_SECOND``; pass the
        voice's, from ``speech.words_per_second``). ``fresh=True`` skips the
        cache read (the new script is still cached). Raises ``ScriptError``
        with a plain message."""
        from reelsmith.script.offline_writer import (
            offline_script,
        )  # it imports this module: imported on use

        topic = " ".join((topic or "").split())
        if user_script is not None and user_script.strip():
            return script_from_text(user_script, topic, language, tone)
        if not topic:
            raise ScriptError("the topic is empty")
        budget = word_budget(target_seconds, words_per_second)
        writer = self._writer()
        script = self._cached(writer, topic, language, budget, tone, fresh)
        if script is not None:
            return script
        if writer is None:
            script = offline_script(topic, target_seconds, budget.words_per_second, tone)
        else:
            try:
                script = self._ask_llm(writer, topic, language, budget, tone)
            except _Unreachable as exc:
                if not writer.discovered:
                    raise
                # A server found on this machine went away: say so, and write offline.
                local_llm.forget(writer.base_url)
                writer = None
                script = self._cached(writer, topic, language, budget, tone, fresh)
                if script is None:
                    script = offline_script(topic, target_seconds, budget.words_per_second, tone)
                script.note = "; ".join(
                    filter(None, [f"{exc.message}; used the offline writer", script.note])
                )
        if self.cache is not None:
            self.cache.set(self._key(writer, topic, language, budget, tone), script.to_dict())
        return script

    def _cached(
        self,
        writer: _Writer | None,
        topic: str,
        language: str,
        budget: WordBudget,
        tone: str,
        fresh: bool,
    ) -> Script | None:
        if self.cache is None or fresh:
            return None
        cached = self.cache.get(self._key(writer, topic, language, budget, tone))
        return Script.from_dict(cached) if cached is not None else None

    def cache_key(
        self,
        topic: str,
        language: str = "en",
        target_seconds: float = 30,
        tone: str = "informative",
        words_per_second: float | None = None,
    ) -> str:
        """The key a script is cached under (for ``Cache.invalidate``)."""
        return self._key(
            self._writer(),
            " ".join(topic.split()),
            language,
            word_budget(target_seconds, words_per_second),
            tone,
        )

    @staticmethod
    def _key(
        writer: _Writer | None, topic: str, language: str, budget: WordBudget, tone: str
    ) -> str:
        if writer is None:
            return make_key(
                "script",
                "offline",
                None,
                None,
                PROMPT_VERSION,
                language,
                budget.target_seconds,
                budget.words,
                tone,
                topic,
            )
        return make_key(
            "script",
            writer.name,
            writer.model,
            writer.base_url,
            PROMPT_VERSION,
            language,
            budget.target_seconds,
            budget.words,
            budget.sentences,
            tone,
            topic,
        )

    # -- the LLM ----------------------------------------------------------
    def _ask_llm(
        self, writer: _Writer, topic: str, language: str, budget: WordBudget, tone: str
    ) -> Script:
        """Ask for the script; once more if the reply is unusable (not valid,
        cut off) or far from the word budget. Two replies far from the budget:
        the closer one is kept, and the script's note says so."""
        style = style_for(tone)
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _user_prompt(topic, language, budget, tone, style)},
        ]
        problem, best = "", None
        for _attempt in range(2):
            try:
                reply = self._complete(writer, messages)
                script = _script_from_reply(reply, topic, language, style, writer.name)
            except _InvalidReply as exc:
                problem = str(exc)
                continue
            miss = _length_miss(script, budget)
            if not miss:
                return script
            if best is None or abs(script.words - budget.words) < abs(best.words - budget.words):
                best = script
            problem = miss
            messages = [
                *messages,
                {"role": "assistant", "content": reply.model_dump_json()},
                {"role": "user", "content": _length_request(script, budget)},
            ]
        if best is not None:
            best.note = "; ".join(
                filter(
                    None,
                    [
                        f"the model missed the length twice ({problem}); kept its closer script",
                        best.note,
                    ],
                )
            )
            return best
        raise ScriptError(f"the model's reply was not a valid script: {problem}")

    def _complete(self, writer: _Writer, messages: list[dict[str, str]]) -> ScriptModel:
        """One structured-output request; SDK errors become ``ScriptError``
        (``_Unreachable`` when nothing answers; ``_InvalidReply`` when asking
        again may help)."""
        import openai

        with self._calls_lock:
            self.calls += 1
        try:
            completion = writer.client.chat.completions.parse(
                model=writer.model, messages=messages, response_format=ScriptModel
            )
        except ValidationError as exc:  # the content is not JSON of the schema's shape
            raise _InvalidReply(_describe(exc)) from exc
        except openai.LengthFinishReasonError as exc:
            raise _InvalidReply("it was cut off at the length limit") from exc
        except openai.ContentFilterFinishReasonError as exc:
            raise ScriptError("the script server's content filter blocked the reply") from exc
        except openai.AuthenticationError as exc:
            raise ScriptError("the API key was rejected (HTTP 401): check OPENAI_API_KEY") from exc
        except openai.RateLimitError as exc:
            raise ScriptError(
                "rate limit or quota exceeded (HTTP 429): wait a little, or check the "
                "account's quota"
            ) from exc
        except openai.APITimeoutError as exc:
            raise ScriptError(
                f"the script server did not answer within {writer.timeout:g} s"
            ) from exc
        except openai.APIConnectionError as exc:
            raise _Unreachable(
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
                    f"{self._server_reason(exc)}"
                ) from exc
            raise ScriptError(f"the script server failed (HTTP {exc.status_code})") from exc
        except openai.OpenAIError as exc:
            raise ScriptError(f"the script request failed ({type(exc).__name__})") from exc
        if not completion.choices:
            raise _InvalidReply("it had no choices")
        message = completion.choices[0].message
        if message.refusal:
            raise ScriptError(f"the model refused to write this script: {message.refusal[:200]}")
        if message.parsed is None:
            raise _InvalidReply("it was empty")
        return message.parsed

    def _server_reason(self, exc: APIStatusError) -> str:
        """ ": <the server's error message>", short and without the API key in
        it ("" when the server gave none)."""
        text = exc.message.removeprefix(f"Error code: {exc.status_code}").lstrip(" -")
        if self.api_key:
            text = text.replace(self.api_key, "***")
        text = re.sub(r"\bsk-[\w-]{6,}", "sk-***", text)[:200]
        return f": {text}" if text else ""


class _InvalidReply(Exception):
    """The model answered, but not with a usable script."""


class _Unreachable(ScriptError):
    """Nothing answered at the script server's address."""


def _user_prompt(topic: str, language: str, budget: WordBudget, tone: str, style: str) -> str:
    seconds, unit = f"{budget.target_seconds:g}", _unit(language)
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


def _length_request(script: Script, budget: WordBudget) -> str:
    unit = _unit(script.language)
    return (
        f"That script has {script.words} {unit} in {len(script.sentences)} sentences. It "
        f"must have about {budget.words} {unit} (between {budget.low} and {budget.high}) in "
        f"{budget.sentences} sentences to fill {budget.target_seconds:g} seconds. Write it "
        "again at that length, with one scene per sentence."
    )


def _length_miss(script: Script, budget: WordBudget) -> str:
    """Why the script's length is far off the budget ("" when it is not)."""
    unit = _unit(script.language)
    if unit is None or budget.low <= script.words <= budget.high:
        return ""
    return f"{script.words} {unit} for a budget of {budget.words}"


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def _script_from_reply(
    reply: ScriptModel, topic: str, language: str, style: str, source: str
) -> Script:
    kept = [(" ".join(s.split()), i) for i, s in enumerate(reply.sentences) if s.strip()]
    sentences = [s for s, _ in kept]
    if not MIN_SENTENCES <= len(sentences) <= MAX_SENTENCES:
        raise _InvalidReply(
            f"expected {MIN_SENTENCES} to {MAX_SENTENCES} sentences, got {len(sentences)}"
        )
    tags = _unique(re.sub(r"[^\w]", "", tag.lower()) for tag in reply.hashtags)
    script = Script(
        title=reply.title.strip() or _title_case(topic),
        sentences=sentences,
        description=reply.description.strip(),
        hashtags=tags[:5] or _hashtags(topic),
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
        terms = _clean_terms(scene.search_terms)
        prompt = " ".join(scene.visual_prompt.split())
        script.search_terms.append(terms or derived[0][n])
        script.visual_prompts.append(prompt or derived[1][n])
    return script
