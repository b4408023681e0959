"""libespeak-ng through ctypes: the library from the ``espeakng-loader``
wheel, its structures and synthesis callback, and ``EspeakLibrary``, which
synthesizes a sentence (PCM and word events) and counts phonemes.

The voice engine built on it is ``engines.espeak.EspeakEngine``; the one
instance per process is ``engines.espeak.ESPEAK``.
"""

from __future__ import annotations

import ctypes
import re
import threading

from reelsmith.core.exceptions import VoiceError


class _EspeakVoice(ctypes.Structure):
    """``espeak_VOICE`` from speak_lib.h. ``languages`` is a run of
    (priority byte, NUL-terminated tag) pairs ended by a zero byte, so it is
    read as raw memory rather than as one C string."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class _EspeakEvent(ctypes.Structure):
    """``espeak_EVENT``: a word event has the word's character position
    (1-based) and its time in the audio (ms)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


# int SynthCallback(short *wav, int numsamples, espeak_EVENT *events)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_EspeakEvent)
)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # return an error instead of calling exit()
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EE_OK = 0
_EVENT_LIST_TERMINATED, _EVENT_WORD = 0, 1
_RATE = 1  # espeakRATE
ESPEAK_DEFAULT_RATE = 175  # words per minute at speed 1
_PHONEMES_IPA_SEPARATED = 0x02 | (ord("_") << 8)  # IPA, one "_" between phonemes


class EspeakLibrary:
    """libespeak-ng, initialised once. The library keeps one global voice,
    rate and callback, so every call goes through ``lock``."""

    def __init__(self) -> None:
        import espeakng_loader

        self.lock = threading.Lock()
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_EspeakVoice)]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_EspeakVoice))
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_EspeakVoice)]
        lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p

        # buflength 0: the default buffer; the return value is the sample rate (22050).
        self.sample_rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS,
            0,
            espeakng_loader.get_data_path().encode(),
            _INITIALIZE_DONT_EXIT,
        )
        if self.sample_rate <= 0:
            raise VoiceError("espeak-ng could not start (its data folder is missing or broken)")
        self._chunks: list[bytes] = []
        self._events: list[tuple[int, int]] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # kept referenced: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib
        self.names = self._list_languages()  # tag -> the voice's name
        self.languages = sorted(self.names)

    def _collect(self, wav, numsamples: int, events) -> int:
        if numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        i = 0
        while events and events[i].type != _EVENT_LIST_TERMINATED:
            if events[i].type == _EVENT_WORD:
                self._events.append((events[i].text_position, events[i].audio_position))
            i += 1
        return 0  # 0 = keep going

    def _list_languages(self) -> dict[str, str]:
        names: dict[str, str] = {}
        voices = self._lib.espeak_ListVoices(None)  # NULL-terminated array
        i = 0
        while voices[i]:
            address = voices[i].contents.languages
            name = (voices[i].contents.name or b"").decode(errors="replace").replace("_", " ")
            while ctypes.string_at(address, 1) != b"\0":  # priority byte; 0 ends the list
                tag = ctypes.string_at(address + 1)
                names.setdefault(tag.decode(), name)
                address += 2 + len(tag)
            i += 1
        return names

    def _set_voice(self, language: str) -> None:
        tag = ctypes.create_string_buffer(language.encode())
        voice = _EspeakVoice(languages=ctypes.cast(tag, ctypes.c_void_p))
        if self._lib.espeak_SetVoiceByProperties(ctypes.byref(voice)) != _EE_OK:
            raise VoiceError(f"espeak does not speak {language!r}")

    def speak(
        self, text: str, language: str, rate: int = ESPEAK_DEFAULT_RATE
    ) -> tuple[bytes, list[tuple[int, int]]]:
        """16-bit mono PCM of ``text`` (``language`` is an espeak tag) and its
        word events: (1-based character position, audio position in ms)."""
        with self.lock:
            self._set_voice(language)
            self._lib.espeak_SetParameter(_RATE, rate, 0)
            self._chunks, self._events = [], []
            data = text.encode("utf-8") + b"\0"
            err = self._lib.espeak_Synth(
                data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            self._lib.espeak_Synchronize()
            samples, events = b"".join(self._chunks), self._events
            self._chunks, self._events = [], []
        if err != _EE_OK:
            raise VoiceError(f"espeak could not speak the sentence (error {err})")
        return samples, events

    def phoneme_count(self, text: str, language: str) -> int:
        """How many phonemes espeak would say for ``text``."""
        with self.lock:
            self._set_voice(language)
            buffer = ctypes.create_string_buffer(text.encode("utf-8") + b"\0")
            pointer = ctypes.c_void_p(ctypes.addressof(buffer))
            count = 0
            while pointer.value:
                phonemes = self._lib.espeak_TextToPhonemes(
                    ctypes.byref(pointer), _CHARS_UTF8, _PHONEMES_IPA_SEPARATED
                )
                if not phonemes:
                    break
                parts = re.split(r"[_\s]+", phonemes.decode("utf-8", errors="replace"))
                count += sum(1 for p in parts if p.strip("ˈˌː"))
            return count
