"""Find a script model already running on this machine.

With no ``OPENAI_API_KEY`` and no ``OPENAI_BASE_URL``, the script writer
asks the local servers people commonly run whether they are up, through
their OpenAI-compatible ``/v1`` API (``GET /v1/models``):

* Ollama at ``OLLAMA_HOST`` (default ``127.0.0.1:11434``);
* LM Studio at ``LMSTUDIO_URL`` (default ``http://127.0.0.1:1234``).

The probe never leaves this machine: an address that is not loopback is
refused before any connection (a host name other than ``localhost`` is
not even resolved), ``localhost`` and ``0.0.0.0`` (Ollama's "listen on all
interfaces") are probed at ``127.0.0.1``, and proxies from the environment
are ignored. Each probe has a short timeout.

The answer is kept for the process: a server found is used from then on
(``forget`` drops it when it stops answering); when none is found, asking
again within ``RETRY_SECONDS`` costs nothing, and after that probes again.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from reelsmith.core.http_pool import POOL_LIMITS
from reelsmith.core.settings import Settings

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 0.5  # seconds per server: loopback answers in milliseconds
RETRY_SECONDS = 30.0  # a failed discovery is repeated at most this often


@dataclass(frozen=True)
class Kind:
    """A kind of local server: its name, the setting that says where it is,
    and its usual port."""

    name: str
    variable: str  # the environment variable (the ScriptSettings field, in capitals)
    default_port: int


# The servers probed, in order of preference. Adding one is one line.
KINDS = (
    Kind("ollama", "OLLAMA_HOST", 11434),
    Kind("lmstudio", "LMSTUDIO_URL", 1234),
)

HINT = (
    "No script model was found, so scripts come from the built-in offline writer: "
    "placeholders, not real explainers. To write real scripts, start a local model: "
    "install Ollama (https://ollama.com), run `ollama pull llama3.2` and keep `ollama serve` "
    "running, or start LM Studio's local server on port 1234 with a model loaded. "
    "Reelsmith finds either on its own. Or set OPENAI_API_KEY (and OPENAI_BASE_URL for "
    "another OpenAI-compatible server)."
)


@dataclass(frozen=True)
class LocalServer:
    name: str  # "ollama" | "lmstudio"
    base_url: str  # the OpenAI-compatible API: "http://127.0.0.1:11434/v1"
    models: tuple[str, ...]  # as listed by GET /v1/models, in the server's order

    def pick_model(self, wanted: str | None) -> str:
        """``wanted`` when the server has it ("llama3.2" matches
        "llama3.2:latest"), else the first model it lists."""
        if wanted:
            for model in self.models:
                if wanted in (model, model.removesuffix(":latest")):
                    return model
        return self.models[0]


@dataclass(frozen=True)
class Discovery:
    server: LocalServer | None
    notes: tuple[str, ...]  # why each server that was not used was not used
    at: float  # time.monotonic() of the probe


def loopback_url(raw: str, default_port: int) -> str:
    """``http://127.0.0.1:11434`` from what a user may write ("11434" is not
    accepted; "localhost:11434", "0.0.0.0", "http://[::1]:1234/v1" are).
    Raises ValueError, without resolving or connecting, when the address is
    not on this machine."""
    text = raw.strip()
    if not text:
        raise ValueError("it is empty")
    parts = urlsplit(text if "://" in text else f"http://{text}")
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"the scheme {parts.scheme!r} is not http")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("the port is not a number from 0 to 65535") from None
    if host in ("localhost", "0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"{host!r} is not a loopback address (host names other than "
            "localhost are not looked up)"
        ) from None
    if not address.is_loopback:
        raise ValueError(f"{host} is not a loopback address")
    netloc = f"[{host}]:{port}" if address.version == 6 else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}"


def candidates(settings: Settings) -> tuple[list[tuple[Kind, str]], list[str]]:
    """The (kind, root URL) pairs to probe, and a note for each refused one."""
    urls, notes = [], []
    for kind in KINDS:
        raw = getattr(settings.script, kind.variable.lower())
        try:
            urls.append((kind, loopback_url(raw, kind.default_port)))
        except ValueError as exc:
            note = (
                f"{kind.variable}={raw!r} was not probed: {exc}; the probe stays on this "
                f"machine (set OPENAI_BASE_URL to use a server elsewhere)"
            )
            log.warning("script writer: %s", note)
            notes.append(note)
    return urls, notes


def probe(kind: Kind, root: str, timeout: float = PROBE_TIMEOUT) -> LocalServer:
    """Ask one server for its models. Raises ``LookupError`` saying why it
    cannot be used."""
    base_url = f"{root}/v1"
    try:
        # trust_env=False: no proxy from the environment, so the request stays on loopback
        with httpx.Client(trust_env=False, timeout=timeout, follow_redirects=False) as client:
            reply = client.get(f"{base_url}/models")
    except httpx.HTTPError as exc:
        raise LookupError(
            f"{kind.name}: nothing answered at {root} ({type(exc).__name__})"
        ) from None
    if reply.status_code != 200:
        raise LookupError(f"{kind.name}: {root}/v1/models answered HTTP {reply.status_code}")
    try:
        models = tuple(str(item["id"]) for item in reply.json()["data"] if item.get("id"))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise LookupError(f"{kind.name}: {root}/v1/models did not list models") from None
    if not models:
        hint = " (run `ollama pull llama3.2`)" if kind.name == "ollama" else " (load a model)"
        raise LookupError(f"{kind.name} at {root} has no models{hint}")
    return LocalServer(kind.name, base_url, models)


_found: dict[tuple, Discovery] = {}
_lock = threading.Lock()


def discover(settings: Settings, *, now: float | None = None) -> Discovery:
    """The first local server that lists a model (cached, see the module's
    docstring). Never raises: when none is found, ``server`` is None and
    ``notes`` say why."""
    urls, refused = candidates(settings)
    key = tuple(url for _, url in urls)
    with _lock:  # one probe at a time; others wait for its answer
        now = time.monotonic() if now is None else now
        known = _found.get(key)
        if known is not None and (known.server is not None or now - known.at < RETRY_SECONDS):
            return known
        notes = list(refused)
        server = None
        for kind, root in urls:
            try:
                server = probe(kind, root)
                break
            except LookupError as exc:
                notes.append(str(exc))
        if server is not None:
            log.info(
                "script writer: using %s at %s (models: %s)",
                server.name,
                server.base_url,
                ", ".join(server.models[:5]),
            )
        else:
            log.info(
                "script writer: no local model found (%s); using the offline writer",
                "; ".join(notes),
            )
        _found[key] = result = Discovery(server, tuple(notes), now)
        return result


def reset() -> None:
    """Forget every answer: the next ``discover`` probes again."""
    with _lock:
        _found.clear()


def forget(base_url: str) -> None:
    """Drop a server that stopped answering: the next ``discover`` probes again."""
    with _lock:
        for key, known in list(_found.items()):
            if known.server is not None and known.server.base_url == base_url:
                del _found[key]


_http: httpx.Client | None = None


def http_client() -> httpx.Client:
    """One pooled client for requests to local servers; like the probe it
    ignores proxies from the environment, so they stay on this machine."""
    global _http
    with _lock:
        if _http is None:
            _http = httpx.Client(limits=POOL_LIMITS, trust_env=False, timeout=60.0)
        return _http
