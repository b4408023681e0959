"""Per-sentence search terms and visual prompts: the model's scenes cleaned or
derived, and the offline writer's and user scripts' own."""

from __future__ import annotations

import pytest

from content_generator import ContentGenerator
from reelsmith.script.offline_writer import offline_script
from tests.helpers.scripts import OFFLINE, generator
from tests.helpers.servers import GOOD_SCRIPT, FakeOpenAI


# -- per-sentence search terms and visual prompts ---------------------------------------------
def test_model_scenes_are_cleaned():
    scenes = [
        {
            "search_terms": ["  Octopus  HEART!", "octopus heart", "reef", "sea", "fish"],
            "visual_prompt": "  An octopus,\n vertical photo ",
        }
    ] + GOOD_SCRIPT["scenes"][1:]
    with FakeOpenAI(script=dict(GOOD_SCRIPT, scenes=scenes)) as server:
        script = generator(server).generate_script("octopus hearts")
    assert script.search_terms[0] == ["octopus heart", "reef", "sea"]
    assert script.visual_prompts[0] == "An octopus, vertical photo"
    assert len(script.search_terms) == len(script.visual_prompts) == len(script.sentences)


@pytest.mark.parametrize("scenes", [GOOD_SCRIPT["scenes"][:3], None])
def test_scenes_that_do_not_match_the_sentences_are_derived_and_noted(scenes):
    reply = (
        dict(GOOD_SCRIPT, scenes=scenes)
        if scenes
        else {k: v for k, v in GOOD_SCRIPT.items() if k != "scenes"}
    )  # a server that ignored them
    with FakeOpenAI(script=reply) as server:
        script = generator(server).generate_script("octopus hearts", tone="calm")
    assert len(server.requests) == 1  # not worth asking again
    count = len(scenes or [])
    assert script.note == (
        f"the model described {count} scenes for 5 sentences; search terms "
        "and visual prompts were derived from the sentences"
    )
    assert len(script.search_terms) == len(script.visual_prompts) == 5
    # the sentence's own words first (the longest), then the topic
    assert script.search_terms[1] == ["oxygen", "blood", "octopus hearts"]
    assert script.visual_prompts[1] == (
        "octopus hearts: Two of them push blood through the "
        "gills, where it picks up fresh oxygen, soft light, calm "
        "mood, vertical photo"
    )


def test_blank_scenes_are_derived_one_by_one():
    scenes = [dict(GOOD_SCRIPT["scenes"][0], search_terms=["!!"], visual_prompt=" ")] + GOOD_SCRIPT[
        "scenes"
    ][1:]
    with FakeOpenAI(script=dict(GOOD_SCRIPT, scenes=scenes)) as server:
        script = generator(server).generate_script("octopus hearts")
    assert script.search_terms[0] and script.search_terms[0] != ["!!"]
    assert script.visual_prompts[0].endswith("natural light, documentary style, vertical photo")
    assert script.visual_prompts[1:] == [s["visual_prompt"] for s in GOOD_SCRIPT["scenes"][1:]]
    assert script.note == ""


@pytest.mark.parametrize("seconds", [15, 60, 120])
def test_offline_scenes(seconds):
    script = offline_script("why octopuses have three hearts", seconds, tone="dramatic")
    n = len(script.sentences)
    assert len(script.search_terms) == len(script.visual_prompts) == n
    assert all(terms and terms[0] == "octopuses hearts" for terms in script.search_terms)
    assert all(
        p.startswith("octopuses hearts, ")
        and p.endswith(", cinematic lighting, dramatic mood, vertical photo")
        for p in script.visual_prompts
    )
    assert len(set(script.visual_prompts)) == n  # one picture per sentence, none twice


def test_user_scripts_get_scenes_from_their_sentences():
    gen = ContentGenerator(settings=OFFLINE)
    script = gen.generate_script(
        "tea", tone="serious", user_script="Tea came from China. Tea is drunk everywhere."
    )
    assert script.search_terms[0] == ["china", "tea"]
    assert script.visual_prompts == [
        "Tea came from China, muted colours, documentary style, vertical photo",
        "Tea is drunk everywhere, muted colours, documentary style, vertical photo",
    ]
    assert script.search_terms[1] == ["drunk", "tea"]
    untitled = gen.generate_script("", user_script="Volcanoes erupt when magma rises.")
    assert untitled.search_terms[0] == [
        "volcanoes erupt magma",
        "volcanoes",
    ]  # the title is the topic


def test_an_unknown_tone_is_the_pictures_mood():
    script = offline_script("tea", tone="Cozy autumn")
    assert all(p.endswith(", cozy autumn mood, vertical photo") for p in script.visual_prompts)
