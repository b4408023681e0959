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
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

import local_llm
from cache import Cache, make_key
from config import Settings
from exceptions import ScriptError
from http_pool import PooledHTTP

if TYPE_CHECKING:
    from openai import APIStatusError, OpenAI

# Part of every cache key: bump it when the prompt or the offline templates
# change, so old cached scripts are not served for the new wording.
PROMPT_VERSION = "3"

MIN_SENTENCES, MAX_SENTENCES = 3, 40   # what a reply from the model must have
WORDS_PER_SECOND = 2.5                 # calm narration pace, when the voice's is not known
WORDS_PER_SENTENCE = 13                # one caption's worth
LENGTH_TOLERANCE = 0.2                 # a reply further than this from the budget is asked again
# The pauses the render puts around the sentences (audio.py; a test checks they agree).
# The title is shown over the first sentences, so it adds no time.
LEAD_IN, GAP, TAIL = 0.4, 0.3, 0.8
# Chinese, Japanese and Korean are counted (and their voices' pace measured) in
# characters. Thai, Lao, Khmer and Burmese put no spaces between words, so their
# length is not checked (the prompt still gives seconds and sentences).
_CHARACTERS = {"zh", "ja", "ko"}
_UNCOUNTED = {"th", "lo", "km", "my"}


@dataclass
class Script:
    title: str
    sentences: list[str]   # one caption (and one voice clip) each
    description: str = ""
    hashtags: list[str] = field(default_factory=list)   # lowercase words, without '#'
    source: str = "user"   # "openai" | "ollama" | "lmstudio" | "offline" | "user"
    language: str = "en"
    # Per sentence, for the visual sources: stock search terms (English, the
    # most specific first), and a prompt for an image model.
    search_terms: list[list[str]] = field(default_factory=list)
    visual_prompts: list[str] = field(default_factory=list)
    note: str = ""         # what the writer had to settle for, in plain words ("" when nothing)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Script:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    @property
    def words(self) -> int:
        return sum(count_words(s) for s in self.sentences)


@dataclass(frozen=True)
class WordBudget:
    """How many words fill ``target_seconds`` of finished video at a pace."""

    target_seconds: float
    words_per_second: float
    sentences: int   # suggested: about WORDS_PER_SENTENCE words each
    words: int

    @property
    def low(self) -> int:
        return round(self.words * (1 - LENGTH_TOLERANCE))

    @property
    def high(self) -> int:
        return round(self.words * (1 + LENGTH_TOLERANCE))

    def words_for(self, sentences: int) -> float:
        """The words that fill the target with ``sentences`` sentences (each
        sentence adds a pause)."""
        return speech_seconds(self.target_seconds, sentences) * self.words_per_second


def speech_seconds(target_seconds: float, sentences: int) -> float:
    """The seconds left for speech in a video of ``target_seconds`` with
    ``sentences`` sentences: the lead-in, the pauses between sentences and
    the tail take the rest."""
    return max(0.0, target_seconds - LEAD_IN - TAIL - GAP * max(0, sentences - 1))


def estimated_seconds(words: int, sentences: int, words_per_second: float) -> float:
    """The finished video's length for a script of ``words`` in ``sentences``."""
    return LEAD_IN + TAIL + GAP * max(0, sentences - 1) + words / words_per_second


def word_budget(target_seconds: float, words_per_second: float | None = None) -> WordBudget:
    """The word budget for ``target_seconds`` of video at ``words_per_second``
    (default ``WORDS_PER_SECOND``; ``speech.words_per_second(voice, speed,
    language)`` gives a voice's). Raises ScriptError naming a bad argument."""
    wps = WORDS_PER_SECOND if words_per_second is None else words_per_second
    if isinstance(wps, bool) or not isinstance(wps, (int, float)) or not 0 < wps <= 20:
        raise ScriptError(f"words_per_second must be a number above 0 and at most 20 "
                          f"(got {words_per_second!r})")
    if (isinstance(target_seconds, bool) or not isinstance(target_seconds, (int, float))
            or not 0 < target_seconds <= 3600):
        raise ScriptError(f"target_seconds must be a number of seconds above 0 "
                          f"(got {target_seconds!r})")
    sentences = MIN_SENTENCES
    for _ in range(4):  # the pauses depend on the count, the count on the words: settles at once
        words = speech_seconds(target_seconds, sentences) * wps
        sentences = max(MIN_SENTENCES, min(MAX_SENTENCES, round(words / WORDS_PER_SENTENCE)))
    words = speech_seconds(target_seconds, sentences) * wps
    return WordBudget(float(target_seconds), float(wps), sentences, max(1, round(words)))


def count_words(text: str) -> int:
    """Words as the voices' pace counts them (``speech.word_count``):
    whitespace-separated tokens, and each CJK character as one."""
    from speech import word_count  # the one definition of the unit; imported when first needed

    return word_count(text)


def _unit(language: str) -> str | None:
    """What a budget counts in ``language``: "words", "characters", or None
    (not counted)."""
    code = language.lower().replace("_", "-").split("-")[0]
    return "characters" if code in _CHARACTERS else None if code in _UNCOUNTED else "words"


class SceneModel(BaseModel):
    """What to show while one sentence is spoken."""

    search_terms: list[str]   # 1-3 short English stock-footage searches
    visual_prompt: str        # for an image model


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

# The look asked of image models, by tone (another tone is named as a mood).
STYLES = {
    "informative": "natural light, documentary style",
    "calm": "soft light, calm mood",
    "playful": "bright colours, playful mood",
    "excited": "vivid colours, dynamic angle",
    "dramatic": "cinematic lighting, dramatic mood",
    "serious": "muted colours, documentary style",
}


def style_for(tone: str) -> str:
    tone = " ".join((tone or "").split()).lower()
    return STYLES.get(tone) or (f"{tone} mood" if tone else STYLES["informative"])


@dataclass(frozen=True)
class _Writer:
    """The server a script is asked of."""

    name: str         # "openai" | "ollama" | "lmstudio"
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
        self.calls = 0   # requests sent to the LLM (a retried malformed reply counts twice)
        self._calls_lock = threading.Lock()
        self.client: OpenAI | None = None   # the configured server's client
        wants_offline = api_key == ""
        if self.api_key or (configured_url and not wants_offline):
            from openai import OpenAI  # imported here: it takes ~0.7 s and offline use never needs it

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
            return _Writer("openai", self.client, self.model,
                           str(self.client.base_url).rstrip("/"), self.timeout, False)
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
                    api_key="local", base_url=server.base_url, http_client=local_llm.http_client(),
                    max_retries=self.max_retries, timeout=self._local_timeout)
        return _Writer(server.name, client, server.pick_model(self.model), server.base_url,
                       self._local_timeout, True)

    @property
    def mode(self) -> str:
        """"openai", "ollama", "lmstudio" or "offline"."""
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
            return {"writer": writer.name, "model": writer.model, "base_url": writer.base_url,
                    "discovered": writer.discovered}
        if self.discovers:
            reasons = list(local_llm.discover(self.settings).notes)
        elif self.api_key == "":
            reasons = ["the offline writer was asked for"]
        else:
            reasons = ["DISCOVER_LOCAL_LLM is off, and OPENAI_API_KEY and OPENAI_BASE_URL "
                       "are not set"]
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
        from offline_writer import offline_script  # it imports this module: imported on use

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
                script.note = "; ".join(filter(None, [f"{exc.message}; used the offline writer",
                                                      script.note]))
        if self.cache is not None:
            self.cache.set(self._key(writer, topic, language, budget, tone), script.to_dict())
        return script

    def _cached(self, writer: _Writer | None, topic: str, language: str, budget: WordBudget,
                tone: str, fresh: bool) -> Script | None:
        if self.cache is None or fresh:
            return None
        cached = self.cache.get(self._key(writer, topic, language, budget, tone))
        return Script.from_dict(cached) if cached is not None else None

    def cache_key(self, topic: str, language: str = "en", target_seconds: float = 30,
                  tone: str = "informative", words_per_second: float | None = None) -> str:
        """The key a script is cached under (for ``Cache.invalidate``)."""
        return self._key(self._writer(), " ".join(topic.split()), language,
                         word_budget(target_seconds, words_per_second), tone)

    @staticmethod
    def _key(writer: _Writer | None, topic: str, language: str, budget: WordBudget,
             tone: str) -> str:
        if writer is None:
            return make_key("script", "offline", None, None, PROMPT_VERSION, language,
                            budget.target_seconds, budget.words, tone, topic)
        return make_key("script", writer.name, writer.model, writer.base_url, PROMPT_VERSION,
                        language, budget.target_seconds, budget.words, budget.sentences, tone,
                        topic)

    # -- the LLM ----------------------------------------------------------
    def _ask_llm(self, writer: _Writer, topic: str, language: str, budget: WordBudget,
                 tone: str) -> Script:
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
            messages = [*messages,
                        {"role": "assistant", "content": reply.model_dump_json()},
                        {"role": "user", "content": _length_request(script, budget)}]
        if best is not None:
            best.note = "; ".join(filter(None, [
                f"the model missed the length twice ({problem}); kept its closer script", best.note]))
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
                model=writer.model, messages=messages, response_format=ScriptModel)
        except ValidationError as exc:  # the content is not JSON of the schema's shape
            raise _InvalidReply(_describe(exc)) from exc
        except openai.LengthFinishReasonError as exc:
            raise _InvalidReply("it was cut off at the length limit") from exc
        except openai.ContentFilterFinishReasonError as exc:
            raise ScriptError("the script server's content filter blocked the reply") from exc
        except openai.AuthenticationError as exc:
            raise ScriptError("the API key was rejected (HTTP 401): check OPENAI_API_KEY") from exc
        except openai.RateLimitError as exc:
            raise ScriptError("rate limit or quota exceeded (HTTP 429): wait a little, or check the "
                              "account's quota") from exc
        except openai.APITimeoutError as exc:
            raise ScriptError(f"the script server did not answer within {writer.timeout:g} s") from exc
        except openai.APIConnectionError as exc:
            raise _Unreachable(f"could not connect to the script server at {writer.base_url}") from exc
        except openai.NotFoundError as exc:
            raise ScriptError(f"the script server answered 404 for model {writer.model!r}: check "
                              "OPENAI_MODEL and OPENAI_BASE_URL") from exc
        except openai.APIStatusError as exc:
            if 400 <= exc.status_code < 500:  # say why: e.g. no JSON-schema support
                raise ScriptError(f"the script server refused the request (HTTP {exc.status_code})"
                                  f"{self._server_reason(exc)}") from exc
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
        """": <the server's error message>", short and without the API key in
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
        length = (f"about {seconds} seconds of video: {budget.sentences} sentences and "
                  f"{budget.words} {unit} in all (between {budget.low} and {budget.high}); the "
                  f"voice reads {budget.words_per_second:.1f} {unit} a second.")
    return (
        f"Topic: {topic}\n"
        f"Language: write the title, sentences and description in the language with code "
        f"'{language}'.\n"
        f"Tone: {tone}\n"
        f"Length: {length}\n"
        "Title: under 60 characters. Description: one or two sentences for the post. "
        "Hashtags: 3 to 5 single lowercase words, without '#'.\n"
        "Scenes: one per sentence, in the same order. search_terms: 1 to 3 short English "
        "searches for stock footage of concrete things that can be filmed (like \"octopus\" or "
        "\"coral reef\"), the most specific first. visual_prompt: an English prompt for an image "
        f"model: what the sentence shows, then \"{style}, vertical photo\"; no text in the image."
    )


def _length_request(script: Script, budget: WordBudget) -> str:
    unit = _unit(script.language)
    return (f"That script has {script.words} {unit} in {len(script.sentences)} sentences. It "
            f"must have about {budget.words} {unit} (between {budget.low} and {budget.high}) in "
            f"{budget.sentences} sentences to fill {budget.target_seconds:g} seconds. Write it "
            "again at that length, with one scene per sentence.")


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


def _script_from_reply(reply: ScriptModel, topic: str, language: str, style: str,
                       source: str) -> Script:
    kept = [(" ".join(s.split()), i) for i, s in enumerate(reply.sentences) if s.strip()]
    sentences = [s for s, _ in kept]
    if not MIN_SENTENCES <= len(sentences) <= MAX_SENTENCES:
        raise _InvalidReply(f"expected {MIN_SENTENCES} to {MAX_SENTENCES} sentences, "
                            f"got {len(sentences)}")
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
        script.note = (f"the model described {len(reply.scenes)} scenes for "
                       f"{len(reply.sentences)} sentences; search terms and visual prompts were "
                       "derived from the sentences")
        return script
    for n, (_, i) in enumerate(kept):  # a scene left blank is derived
        scene = reply.scenes[i]
        terms = _clean_terms(scene.search_terms)
        prompt = " ".join(scene.visual_prompt.split())
        script.search_terms.append(terms or derived[0][n])
        script.visual_prompts.append(prompt or derived[1][n])
    return script


def _clean_terms(terms: Iterable[str]) -> list[str]:
    """Up to three short lowercase searches, without repeats."""
    cleaned = (" ".join(re.sub(r"[^\w\s'-]", " ", term).split()[:4]).lower() for term in terms)
    return _unique(cleaned)[:3]


# -- the user's own script ----------------------------------------------------
_SENTENCE_BREAK = re.compile(
    r"(?<=[。！？])\s*"                                     # CJK full stops need no space
    r"|(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)]))\s+"             # . ! ? (maybe closing a quote), then space
    r"|\s*\n\s*"                                            # every line break
)


def split_sentences(text: str) -> list[str]:
    """Sentences on . ! ? … and line breaks, punctuation kept; parts with
    nothing to say (blank, or punctuation only) dropped."""
    return [part.strip() for part in _SENTENCE_BREAK.split(text) if re.search(r"\w", part)]


def script_from_text(text: str, topic: str, language: str, tone: str = "informative") -> Script:
    """The user's own script, one caption per sentence, with search terms and
    visual prompts derived from each sentence and the topic."""
    sentences = split_sentences(text)
    if not sentences:
        raise ScriptError("your script has no sentences")
    title = topic or " ".join(sentences[0].split()[:6]).rstrip(".,;:!?…")
    terms, prompts = derive_scenes(sentences, topic or title, style_for(tone))
    return Script(title=title, sentences=sentences, description=" ".join(sentences[:2]),
                  hashtags=_hashtags(title), source="user", language=language,
                  search_terms=terms, visual_prompts=prompts)


# -- words (shared with offline_writer.py) --------------------------------------
_WH = {"why", "how", "what", "when", "where", "who", "which"}
_AUX = {"is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would",
        "should", "has", "have", "had"}
_PREPOSITIONS = {"of", "for", "from", "with", "to", "about", "in", "on", "at", "by", "like",
                 "inside", "behind", "beyond", "under", "between"}
_STOPWORDS = _WH | _AUX | _PREPOSITIONS | set(
    "a an and but or so if than then that this these those it its the their them they there "
    "you your we our us i me my he she his her not no yes get gets got make makes made "
    "one two three four five six seven eight nine ten many much more most some any all "
    "really very just only also into onto out up down over under".split()
)
# Words too vague to search footage for (besides the offline templates' own words).
_VAGUE = set(
    "because been being came come comes goes going gone went know knew known think thought "
    "said says say use used uses using called call become became look looks looked seem "
    "seems seemed thing things way ways lot lots something someone every each other another "
    "same such own even still ever never always often here where while after before again "
    "what's it's that's there's let's don't doesn't isn't aren't can't won't through across "
    "around without within during against toward towards upon among since until whether "
    "although though which whose above below beside".split()
)


# -- search terms and visual prompts ---------------------------------------------
def derive_scenes(sentences: list[str], topic: str,
                  style: str) -> tuple[list[list[str]], list[str]]:
    """Per sentence, stock search terms (the sentence's own keywords, the
    longest first, then the topic's) and an image prompt ("<the sentence>,
    <style>, vertical photo", with the topic when the sentence does not name
    it). Keywords are the sentence's words less stop words and vague ones,
    so they are in the script's language."""
    topic_words = _keywords(topic, generic=False)
    subject = " ".join(topic_words[:3]) or " ".join(topic.lower().split()[:3])
    terms, prompts = [], []
    for sentence in sentences:
        own = [w for w in _keywords(sentence) if w not in topic_words]
        ranked = sorted(own, key=len, reverse=True)[:2]
        terms.append(_unique([*ranked, subject, *topic_words[:1]])[:3] or [sentence.lower()[:40]])
        text = " ".join(sentence.split()[:25]).rstrip(".,;:!?…")
        named = any(w in topic_words for w in _keywords(sentence, generic=False))
        what = text if named or not subject else f"{subject}: {text}"
        prompts.append(f"{what}, {style}, vertical photo")
    return terms, prompts


def _keywords(text: str, generic: bool = True) -> list[str]:
    """Content words of ``text``, lowercase, in order, without repeats;
    ``generic=True`` also drops vague words and the offline templates' words."""
    from offline_writer import TEMPLATE_WORDS  # it imports this module: imported on use

    skip = _STOPWORDS | (_VAGUE | TEMPLATE_WORDS if generic else set())
    words = (re.sub(r"'s$", "", w) for w in re.findall(r"[^\W\d_][\w'-]*", text.lower()))
    return _unique(w for w in words if len(w) > 2 and w not in skip)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _title_case(text: str) -> str:
    small = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to"}
    words = text.split()
    return " ".join(
        word if any(c.isupper() for c in word)                 # keep "NASA", "iPhone"
        else word if 0 < i < len(words) - 1 and word in small  # the last word is capitalised
        else _capitalised(word)
        for i, word in enumerate(words)
    )


def _hashtags(text: str) -> list[str]:
    """3-5 lowercase hashtags: up to four topic words, then generic ones."""
    words = _unique(w for w in re.findall(r"\w+", text.lower())
                    if len(w) > 2 and not w.isdigit() and w not in _STOPWORDS)
    tags = words[:4] + ["shorts"]
    for generic in ("facts", "explained"):
        if len(tags) < 3:
            tags.append(generic)
    return tags


def _unique(items: Iterable[str]) -> list[str]:
    return [item for item in dict.fromkeys(items) if item]
