"""Turn a topic into a narration script.

Three sources, in order of preference:

* the user's own script (``user_script=``): split into sentences, no LLM;
* an OpenAI-compatible server (when there is an API key): the official
  ``openai`` SDK over one pooled ``httpx.Client`` shared by every instance
  and thread, structured JSON output checked against a strict schema;
* the built-in offline writer (no key): a deterministic, template-based
  script, varied by topic. It writes English only, so its scripts always
  say ``language="en"`` (the voice follows that field); a script in another
  language needs an API key or the user's own text.

Scripts from the LLM and the offline writer are cached (when a ``Cache`` is
given) under everything that changes the answer; user scripts are not.
"""
from __future__ import annotations

import hashlib
import re
import string
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from cache import Cache, make_key
from config import Settings
from exceptions import ScriptError
from http_pool import PooledHTTP

if TYPE_CHECKING:
    from openai import APIStatusError, OpenAI

# Part of every cache key: bump it when the prompt or the offline templates
# change, so old cached scripts are not served for the new wording.
PROMPT_VERSION = "2"

MIN_SENTENCES, MAX_SENTENCES = 3, 12   # what a reply from the model must have
WORDS_PER_SECOND = 2.5                 # calm narration pace


@dataclass
class Script:
    title: str
    sentences: list[str]   # one caption (and one voice clip) each
    description: str = ""
    hashtags: list[str] = field(default_factory=list)   # lowercase words, without '#'
    source: str = "user"   # "openai" | "offline" | "user"
    language: str = "en"
    # Per sentence, for the visual sources (may be empty: sources then derive
    # terms from the sentence): stock search terms, and a prompt for an image model.
    search_terms: list[list[str]] = field(default_factory=list)
    visual_prompts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Script:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


class ScriptModel(BaseModel):
    """The JSON the model must answer with (sent as a strict JSON schema)."""

    title: str
    sentences: list[str]
    description: str
    hashtags: list[str]


SYSTEM_PROMPT = (
    "You write narration scripts for vertical short videos (YouTube Shorts, Instagram Reels, "
    "TikTok). Every sentence is spoken by a voice and shown on screen as one caption, so each "
    "sentence carries one idea in plain spoken language: no lists, emojis, hashtags or stage "
    "directions. Structure: a hook, what it is, why it matters, a surprising fact, a takeaway, "
    "and a short call to follow. State only facts you are sure of. Answer with JSON that "
    "matches the schema."
)


class ContentGenerator(PooledHTTP):
    """Writes scripts. Every instance shares one pooled ``httpx.Client``
    (``ContentGenerator._get_http_client()``, created lazily under a lock:
    10 keep-alive connections, 20 at most), so repeated calls reuse their
    connections instead of opening new ones."""

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
        settings = settings if settings is not None else Settings.from_env()
        self.api_key = api_key if api_key is not None else settings.openai_api_key
        self.model = model or settings.openai_model
        self.timeout = float(timeout if timeout is not None else settings.openai_timeout)
        self.max_retries = max_retries if max_retries is not None else settings.openai_max_retries
        self.cache = cache
        self.calls = 0   # requests sent to the LLM (a retried malformed reply counts twice)
        self._calls_lock = threading.Lock()
        self.client: OpenAI | None = None
        if self.api_key:
            from openai import OpenAI  # imported here: it takes ~0.7 s and offline use never needs it

            self.client = OpenAI(
                api_key=self.api_key,
                base_url=base_url if base_url is not None else settings.openai_base_url,
                http_client=self._get_http_client(),
                max_retries=self.max_retries,
                timeout=self.timeout,
            )

    @property
    def mode(self) -> str:
        return "openai" if self.client is not None else "offline"

    @property
    def base_url(self) -> str | None:
        """The script server's address (``None`` offline)."""
        return str(self.client.base_url).rstrip("/") if self.client is not None else None

    def generate_script(
        self,
        topic: str,
        *,
        language: str = "en",
        target_seconds: int = 30,
        tone: str = "informative",
        user_script: str | None = None,
        fresh: bool = False,
    ) -> Script:
        """A script for ``topic``; ``fresh=True`` skips the cache read (the new
        script is still cached). Raises ``ScriptError`` with a plain message."""
        topic = " ".join((topic or "").split())
        if user_script is not None and user_script.strip():
            return script_from_text(user_script, topic, language)
        if not topic:
            raise ScriptError("the topic is empty")
        key = self.cache_key(topic, language, target_seconds, tone)
        if self.cache is not None and not fresh:
            cached = self.cache.get(key)
            if cached is not None:
                return Script.from_dict(cached)
        if self.client is not None:
            script = self._ask_llm(topic, language, target_seconds, tone)
        else:
            script = offline_script(topic, target_seconds)
        if self.cache is not None:
            self.cache.set(key, script.to_dict())
        return script

    def cache_key(self, topic: str, language: str = "en", target_seconds: int = 30,
                  tone: str = "informative") -> str:
        """The key a script is cached under (for ``Cache.invalidate``)."""
        model = self.model if self.client is not None else None
        return make_key("script", self.mode, model, self.base_url, PROMPT_VERSION,
                        language, target_seconds, tone, " ".join(topic.split()))

    # -- the LLM ----------------------------------------------------------
    def _ask_llm(self, topic: str, language: str, target_seconds: int, tone: str) -> Script:
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _user_prompt(topic, language, target_seconds, tone)},
        ]
        problem = ""
        for _attempt in range(2):  # a reply that is not a valid script is asked for once more
            try:
                return _script_from_reply(self._complete(messages), topic, language)
            except _InvalidReply as exc:
                problem = str(exc)
        raise ScriptError(f"the model's reply was not a valid script: {problem}")

    def _complete(self, messages: list[dict[str, str]]) -> ScriptModel:
        """One structured-output request; SDK errors become ``ScriptError``
        (or ``_InvalidReply`` when asking again may help)."""
        import openai

        assert self.client is not None
        with self._calls_lock:
            self.calls += 1
        try:
            completion = self.client.chat.completions.parse(
                model=self.model, messages=messages, response_format=ScriptModel)
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
            raise ScriptError(f"the script server did not answer within {self.timeout:g} s") from exc
        except openai.APIConnectionError as exc:
            raise ScriptError(f"could not connect to the script server at {self.base_url}") from exc
        except openai.NotFoundError as exc:
            raise ScriptError(f"the script server answered 404 for model {self.model!r}: check "
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


def _user_prompt(topic: str, language: str, target_seconds: int, tone: str) -> str:
    return (
        f"Topic: {topic}\n"
        f"Language: write the title, sentences and description in the language with code "
        f"'{language}'.\n"
        f"Tone: {tone}\n"
        f"Length: about {target_seconds} seconds spoken: {_sentence_count(target_seconds)} "
        f"sentences, about {round(target_seconds * WORDS_PER_SECOND)} words in all.\n"
        "Title: under 60 characters. Description: one or two sentences for the post. "
        "Hashtags: 3 to 5 single lowercase words, without '#'."
    )


def _sentence_count(target_seconds: int) -> int:
    """5-8 sentences of about five seconds each."""
    return max(5, min(8, round(target_seconds / 5)))


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def _script_from_reply(reply: ScriptModel, topic: str, language: str) -> Script:
    sentences = [" ".join(s.split()) for s in reply.sentences if s.strip()]
    if not MIN_SENTENCES <= len(sentences) <= MAX_SENTENCES:
        raise _InvalidReply(f"expected {MIN_SENTENCES} to {MAX_SENTENCES} sentences, "
                            f"got {len(sentences)}")
    tags = _unique(re.sub(r"[^\w]", "", tag.lower()) for tag in reply.hashtags)
    return Script(
        title=reply.title.strip() or _title_case(topic),
        sentences=sentences,
        description=reply.description.strip(),
        hashtags=tags[:5] or _hashtags(topic),
        source="openai",
        language=language,
    )


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


def script_from_text(text: str, topic: str, language: str) -> Script:
    """The user's own script, one caption per sentence."""
    sentences = split_sentences(text)
    if not sentences:
        raise ScriptError("your script has no sentences")
    title = topic or " ".join(sentences[0].split()[:6]).rstrip(".,;:!?…")
    return Script(title=title, sentences=sentences, description=" ".join(sentences[:2]),
                  hashtags=_hashtags(title), source="user", language=language)


# -- the offline writer -------------------------------------------------------
_WH = {"why", "how", "what", "when", "where", "who", "which"}
_AUX = {"is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would",
        "should", "has", "have", "had"}
_BE = {"is", "are", "was", "were"}
_PREPOSITIONS = {"of", "for", "from", "with", "to", "about", "in", "on", "at", "by", "like",
                 "inside", "behind", "beyond", "under", "between"}
_STOPWORDS = _WH | _AUX | _PREPOSITIONS | set(
    "a an and but or so if than then that this these those it its the their them they there "
    "you your we our us i me my he she his her not no yes get gets got make makes made "
    "one two three four five six seven eight nine ten many much more most some any all "
    "really very just only also into onto out up down over under".split()
)

# Slots of the script, each a few single-sentence templates. A template is
# used only when the topic gives every field it names: {question} (a direct
# question), {clause} ("why octopuses have three hearts"), {subject} (a noun
# phrase), {about} (the clause or the subject).
_HOOKS = {
    "question": [
        "Ever wondered {clause}?",
        "Most people never stop to ask {clause}, but it is worth a minute of your time.",
        "{question}",
        "Here is a question that sounds simple: {question}",
    ],
    "subject": [
        "You have probably heard of {subject}, but there is more to it than you think.",
        "Give me {seconds} seconds and you will never see {subject} the same way again.",
        "Let's talk about {subject}, because the full story is better than the headline.",
    ],
}
_WHAT = [
    "At first glance it seems simple, but it connects to some big ideas.",
    "The basic idea is simpler than it sounds, and it starts with something most of us never notice.",
    "To make sense of {about}, it helps to start with the basics.",
    "The short version begins with one simple fact that most people overlook.",
]
_MATTERS = [
    "It matters because the same idea shows up in places you would never expect.",
    "And it is not just trivia: it explains a lot about the world around us.",
    "Understanding it changes how you see a lot of everyday things.",
]
_SURPRISE = [
    "Here is the surprising part: what most people believe is only half the story.",
    "The twist is that the real story is stranger than most people guess.",
    "What surprises most people is how much is still being discovered about {about}.",
]
_DETAILS = [
    "The closer you look, the more interesting the details become.",
    "People have puzzled over this for a long time, and every answer raises a new question.",
    "Each piece of the explanation leads to another good question.",
]
_TAKEAWAYS = {
    "question": [
        "So the next time someone asks {clause}, you will know there is a great story behind it.",
        "The takeaway: even the simplest questions can have surprising answers.",
        "Remember: the best questions are the ones that sound too simple to ask.",
    ],
    "subject": [
        "The takeaway: there is more to {subject} than meets the eye.",
        "So the next time someone mentions {subject}, you will know there is more to the story.",
        "Now you have a good reason to take a closer look at {subject}.",
    ],
}
_CALLS_TO_FOLLOW = [
    "Follow for more short explainers like this one.",
    "Follow for more, and tell me in the comments what to explain next.",
    "If you learned something new, follow for more quick facts.",
]


@dataclass(frozen=True)
class _Topic:
    text: str               # whitespace-normalised, without trailing punctuation
    question: str | None    # a direct question: "Why is the sky blue?"
    clause: str | None      # an embedded question: "why octopuses have three hearts"
    subject: str | None     # a noun phrase: "black holes"

    @property
    def kind(self) -> str:
        return "question" if self.question or self.clause else "subject"


def _read_topic(topic: str) -> _Topic:
    """What the topic is, grammatically, so templates can phrase it naturally."""
    text = " ".join(topic.split()).rstrip("?.!").strip() or topic.strip()
    words = text.split()
    first, second = (w.lower() for w in (words + [""])[:2])
    rest = words[2:]
    if first in _WH and second in _AUX and rest:             # "why is the sky blue"
        clause = subject = None
        if second == "do":                                    # "how do bees make honey"
            clause = " ".join([first] + rest)
        elif (first in {"what", "who"} and second in _BE      # "what is a black hole"; not
              and rest[0].lower() not in _PREPOSITIONS        # "what is inside a black hole"
              and rest[-1].lower() not in _PREPOSITIONS):     # or "what is it made of"
            subject = " ".join(rest)
            clause = f"{first} {subject} {second}"
        return _Topic(text, _capitalised(text) + "?", clause, subject)
    if first in _WH and second:                               # "why octopuses have three hearts"
        return _Topic(text, None, _lower_first(text), None)
    if (first in _AUX and second) or topic.rstrip().endswith("?"):  # "do fish sleep"
        clause = " ".join(["whether"] + words[1:]) if first == "do" else None
        return _Topic(text, _capitalised(text) + "?", clause, None)
    return _Topic(text, None, None, _lower_first(text))       # "black holes"


def offline_script(topic: str, target_seconds: int = 30) -> Script:
    """A sensible, deterministic English script built from templates: a hook,
    what it is, why it matters, a surprising angle, a takeaway and a call to
    follow; the templates are picked by a hash of the topic."""
    parsed = _read_topic(topic)
    digest = hashlib.sha256(parsed.text.lower().encode()).digest()
    fields = {
        "question": parsed.question,
        "clause": parsed.clause,
        "subject": parsed.subject,
        "about": parsed.clause or parsed.subject,
        "seconds": str(target_seconds),
    }

    def pick(slot: int, templates: list[str], skip: int = 0) -> str:
        usable = [t for t in templates if _fits(t, fields)]
        return usable[(digest[slot] + skip) % len(usable)].format(**fields)

    n = _sentence_count(target_seconds)
    body = [pick(1, _WHAT), pick(2, _MATTERS), pick(3, _SURPRISE)]
    body += [pick(4, _DETAILS, skip) for skip in range(n - 6)]
    if n == 5:
        del body[1]  # the shortest script skips "why it matters"
    sentences = [pick(0, _HOOKS[parsed.kind]), *body,
                 pick(5, _TAKEAWAYS[parsed.kind]), pick(6, _CALLS_TO_FOLLOW)]
    title = _title_case(parsed.text) + ("?" if parsed.question else "")
    return Script(
        title=title,
        sentences=[_capitalised(s) for s in sentences],
        description=f"{title} A {target_seconds}-second explainer."
        if title.endswith("?") else f"{title}: a {target_seconds}-second explainer.",
        hashtags=_hashtags(parsed.text),
        source="offline",
        language="en",
    )


def _fits(template: str, fields: dict[str, str | None]) -> bool:
    return all(fields.get(name) is not None
               for _, name, _, _ in string.Formatter().parse(template) if name)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    """Lower-case a leading function word ("Why", "The") so the phrase fits
    mid-sentence; other words (maybe names) keep their case."""
    first, _, rest = text.partition(" ")
    if first.lower() in _WH | _AUX | {"the", "a", "an"}:
        first = first.lower()
    return f"{first} {rest}".strip()


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
