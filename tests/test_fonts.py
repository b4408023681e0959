"""Caption fonts (fonts.py, chain.py, breaking.py): every script drawn by a
font that has it, colour emoji as one cluster, UAX #14 wrapping and highlight
units, right-to-left order."""

import colorsys
from functools import cache

import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw
from uniseg.derived import default_ignorable_code_point

from reelsmith.captions import chain as font_chain
from reelsmith.captions import fonts
from reelsmith.captions.breaking import units, wrap
from reelsmith.captions.chain import FontChain, is_rtl
from reelsmith.captions.fonts import FAMILIES, check_font_file
from reelsmith.core.exceptions import FontError

SIZE = 20

# (language, sample line, a file-name fragment of the font that must draw its letters)
SCRIPTS = [
    ("zh-CN", "蜜蜂的舞蹈很美。", "CJK"),
    ("zh-TW", "蜜蜂的舞蹈很美麗。", "CJK"),
    ("ja", "ミツバチのダンスは美しい。", "CJK"),
    ("ko", "꿀벌의 춤은 아름답다.", "CJK"),
    ("ar", "رقصة النحل جميلة", "Arabic"),
    ("he", "ריקוד הדבורים יפה", "Hebrew"),
    ("hi", "मधुमक्खी का नृत्य सुंदर है", "NotoSans["),  # Noto Sans 2.15 has Devanagari itself
    ("bn", "মৌমাছির নাচ সুন্দর", "Bengali"),
    ("ta", "தேனீக்களின் நடனம் அழகானது", "Tamil"),
    ("te", "తేనెటీగల నృత్యం అందంగా ఉంది", "Telugu"),
    ("th", "การเต้นรำของผึ้งสวยงาม", "Thai"),
    ("km", "របាំរបស់ឃ្មុំស្អាតណាស់", "Khmer"),
    ("ka", "ფუტკრების ცეკვა ლამაზია", "Georgian"),
    ("hy", "Մեղուների պարը գեղեցիկ է", "Armenian"),
    ("am", "የንብ ዳንስ ቆንጆ ነው", "Ethiopic"),
    ("en", "The bees' dance is beautiful.", "NotoSans["),
    ("ru", "Танец пчёл прекрасен.", "NotoSans["),
    ("el", "Ο χορός των μελισσών είναι όμορφος.", "NotoSans["),
]


@cache
def _glyph_names(path, index):
    """The cmap read afresh with fontTools (not through fonts.cmap)."""
    with TTFont(str(path), fontNumber=index, lazy=True) as font:
        return dict(font.getBestCmap())


def _render(chain, text, width=None, colour_bg=(0, 0, 0, 0)):
    ascent, descent = chain.metrics(text)
    width = width or int(chain.length(text)) + 8
    img = Image.new("RGBA", (width, ascent + descent + 8), colour_bg)
    chain.draw(
        ImageDraw.Draw(img),
        (4, 4),
        text,
        fill=(255, 255, 255, 255),
        stroke_width=1,
        stroke_fill=(0, 0, 0, 255),
    )
    return img


def _saturated(img, box=None):
    """Pixels that are clearly coloured (not white, black or grey)."""
    region = img.crop(box) if box else img
    count = 0
    for r, g, b, a in region.getdata():
        if a > 200:
            _, s, v = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
            count += s > 0.4 and v > 0.3
    return count


@pytest.mark.parametrize("language,text,expected", SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_every_script_is_drawn_by_a_font_that_has_it(language, text, expected):
    chain = FontChain("noto-sans", SIZE, language=language)
    runs = chain.runs(text)
    assert chain.missing(text) == []
    # Nothing dropped: the runs hold every character of the line.
    assert "".join(r.text for r in sorted(runs, key=lambda r: r.start)) == text
    for run in runs:
        names = _glyph_names(run.face.path, run.face.index)
        for ch in run.text:
            if not default_ignorable_code_point(ch):
                assert names.get(ord(ch), ".notdef") != ".notdef", (ch, run.face.path.name)
    letters = [r for r in runs if any(ch.isalpha() for ch in r.text)]
    assert letters and all(expected in r.face.path.name for r in letters), [
        (r.text, r.face.path.name) for r in runs
    ]
    img = _render(chain, text)
    assert img.getbbox() is not None
    ink = img.getbbox()
    assert ink[2] - ink[0] > chain.length(text) * 0.8  # drawn across the line, not one box


@pytest.mark.parametrize(
    "language,index",
    [
        ("zh", 2),
        ("zh-CN", 2),
        ("cmn", 2),
        ("zh-TW", 3),
        ("zh_Hant", 3),
        ("zh-HK", 4),
        ("yue", 4),
        ("ja", 0),
        ("ko", 1),
        (None, 2),
    ],
)
def test_cjk_face_follows_the_language(language, index):
    assert fonts.cjk_face_index(language) == index
    chain = FontChain(size=SIZE, language=language)
    (run,) = chain.runs("蜜蜂")
    assert run.face.index == index


def test_traditional_and_simplified_faces_draw_differently():
    # The same character has a different shape in the SC and TC faces.
    a = _render(FontChain(size=40, language="zh-CN"), "骨")
    b = _render(FontChain(size=40, language="zh-TW"), "骨")
    assert a.size == b.size and a.tobytes() != b.tobytes()


def test_bold_is_heavier_for_latin_and_cjk():
    for text in ("Bold captions", "蜜蜂的舞蹈"):
        regular = _render(FontChain(size=SIZE, bold=False), text, width=400)
        bold = _render(FontChain(size=SIZE, bold=True), text, width=400)
        ink = lambda im: sum(1 for a in im.getchannel("A").getdata() if a > 128)  # noqa: E731
        assert ink(bold) > ink(regular) * 1.1, text


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_draws_latin_itself(name):
    chain = FontChain(name, SIZE)
    (run,) = chain.runs("Octopus facts")
    assert run.face == FAMILIES[name].face(True)
    assert _render(chain, "Octopus facts").getbbox()


def test_family_names_as_people_write_them():
    assert FontChain("Bebas Neue", SIZE).primary == FAMILIES["bebas-neue"].face(True)
    assert FontChain("luckiest_guy", SIZE).primary == FAMILIES["luckiest-guy"].face(True)


def test_a_creator_font_falls_back_for_other_scripts():
    chain = FontChain("bebas-neue", SIZE)
    runs = chain.runs("Bees مرحبا")
    faces = {r.text.strip(): r.face.path.name for r in runs if r.text.strip()}
    assert "BebasNeue" in faces["Bees"] and "Arabic" in faces["مرحبا"]


def test_cjk_lines_break_within_the_width_and_keep_punctuation_off_the_line_start():
    chain = FontChain(size=SIZE, language="zh-CN")
    text = "蜜蜂用舞蹈告诉同伴花在哪里，舞得越快，花蜜越多。它们还会“摇摆舞”！"
    lines = wrap(text, chain, 120)
    assert len(lines) > 2
    assert "".join(lines) == text
    assert all(chain.length(line) <= 120 for line in lines)
    assert not any(line[0] in "，。！”、" for line in lines)
    assert not any(line[-1] in "“" for line in lines)  # an opening quote stays with what follows


def test_japanese_wraps_between_characters_too():
    chain = FontChain(size=SIZE, language="ja")
    text = "ミツバチはダンスで仲間に花の場所を教えます。"
    lines = wrap(text, chain, 100)
    assert len(lines) > 1 and "".join(lines) == text
    assert all(chain.length(line) <= 100 for line in lines)


def test_wrap_never_splits_a_latin_word_that_fits():
    chain = FontChain(size=SIZE)
    text = "Octopuses have three hearts and blue blood, and well-known arms that taste things"
    longest = max(chain.length(word) for word in text.split())
    for width in (longest, longest + 10, 150, 200, 400):
        lines = wrap(text, chain, width)
        assert " ".join(lines).split() == text.split(), width
        assert all(chain.length(line) <= width for line in lines)


def test_a_word_longer_than_the_line_is_cut_by_grapheme_clusters():
    chain = FontChain(size=SIZE, language="hi")
    word = "Supercalifragilisticexpialidocious"
    lines = wrap(word, chain, 80)
    assert len(lines) > 2 and "".join(lines) == word
    assert all(chain.length(line) <= 80 for line in lines)
    hindi = "मधुमक्खियाँमधुमक्खियाँमधुमक्खियाँ"
    lines = wrap(hindi, chain, 60)
    assert "".join(lines) == hindi and len(lines) > 1
    # No line starts with a combining mark: clusters stay whole.
    assert all(not ("\u093e" <= line[0] <= "\u094d") for line in lines)


def test_highlight_units():
    assert units("Octopuses have  three hearts 💙💙💙.") == [
        "Octopuses",
        "have",
        "three",
        "hearts",
        "💙💙💙.",
    ]
    assert units("a well-known fact") == ["a", "well-known", "fact"]
    zh = units("蜜蜂的舞蹈，很美。")
    assert zh == ["蜜", "蜂", "的", "舞", "蹈，", "很", "美。"]
    assert units("꿀벌의 춤은 아름답다.") == ["꿀벌의", "춤은", "아름답다."]
    mixed = units("我爱Python编程")
    assert "Python" in mixed and len(mixed) > 3


@pytest.mark.parametrize(
    "language, text, words",
    [
        ("th", "ปลาหมึกมีหัวใจสามดวง", ["ปลาหมึก", "มี", "หัวใจ", "สาม", "ดวง"]),
        ("lo", "ປາໝຶກມີຫົວໃຈສາມດວງ", ["ປາໝຶກ", "ມີ", "ຫົວໃຈ", "ສາມ", "ດວງ"]),
        ("km", "ខ្ញុំចង់ទៅផ្សារ", ["ខ្ញុំ", "ចង់ទៅ", "ផ្សារ"]),
        ("my", "ငါးမှာနှလုံးသုံးခုရှိတယ်", ["ငါး", "မှာ", "နှလုံး", "သုံး", "ခု", "ရှိ", "တယ်"]),
    ],
)
def test_scripts_without_spaces_between_words_are_cut_into_words(language, text, words):
    """Thai, Lao, Khmer and Myanmar write no space between words: a dictionary
    (ICU's) finds them, so captions highlight and wrap word by word, not by
    the phrases between spaces."""
    assert units(text) == words
    assert units(f"{text} 🐙 ok") == [*words, "🐙", "ok"]
    chain = FontChain(size=SIZE, language=language)
    narrow = max(0.45 * chain.length(text), max(chain.length(w) for w in words))  # every word fits
    lines = wrap(text * 2, chain, narrow)
    assert len(lines) >= 3 and "".join(lines) == text * 2
    assert all(chain.length(line) <= narrow for line in lines)
    ends, at = set(), 0  # every line ends where a word does
    for word in words * 2:
        at += len(word)
        ends.add(at)
    at = 0
    for line in lines:
        at += len(line)
        assert at in ends, line


def test_emoji_sequences_stay_one_cluster_in_colour():
    chain = FontChain(size=32)
    family, thumb, flag, heart = "👨\u200d👩\u200d👧", "👍🏽", "🇯🇵", "❤️"
    text = f"Hi {family} {thumb} {flag} {heart}"
    runs = chain.runs(text)
    emoji_runs = [r for r in runs if r.emoji]
    for seq in (family, thumb, flag, heart):
        holders = [r for r in emoji_runs if seq in r.text]
        assert len(holders) == 1, seq
    img = _render(chain, text, colour_bg=(0, 0, 0, 255))
    hi_left, hi_right = chain.span(text, 0, 2)
    assert _saturated(img, (4 + int(hi_left), 0, 4 + int(hi_right), img.height)) == 0
    for seq in (family, thumb, flag, heart):
        start = text.index(seq)
        left, right = chain.span(text, start, start + len(seq))
        emoji_size = next(r for r in emoji_runs if seq in r.text).font.size
        assert right - left == pytest.approx(emoji_size * font_chain.EMOJI_ADVANCE, abs=1)
        box = (4 + int(left), 0, 4 + int(right), img.height)
        assert _saturated(img, box) > 20, seq


@pytest.mark.parametrize("seq", ["👨\u200d👩\u200d👧", "👍🏽", "🇯🇵", "🇫🇷", "1️⃣"])
def test_an_emoji_sequence_is_one_glyph(seq):
    # Were the sequence not ligated, its parts would be drawn side by side.
    chain = FontChain(size=40)
    img = Image.new("RGBA", (200, 80))
    chain.draw(ImageDraw.Draw(img), (20, 60), seq, fill="white", anchor="ls")
    left, _, right, _ = img.getbbox()
    (run,) = chain.runs(seq)
    assert run.emoji and right - left <= run.font.size * font_chain.EMOJI_ADVANCE
    assert _saturated(img) > 50


def test_emoji_sit_on_the_baseline_scaled_to_the_line():
    chain = FontChain(size=40)
    ascent, descent = chain.metrics("Octopus 🐙")
    img = Image.new("RGBA", (300, 120))
    baseline = 80
    chain.draw(ImageDraw.Draw(img), (0, baseline), "🐙", fill="white", anchor="ls")
    _, top, _, bottom = img.getbbox()
    assert baseline - ascent <= top and bottom <= baseline + descent
    assert abs(bottom - baseline) <= 0.12 * 40
    line_h = sum(FontChain(size=40).font_for(chain.primary).getmetrics())
    assert bottom - top == pytest.approx(line_h * font_chain.EMOJI_HEIGHT, rel=0.1)


def test_emoji_on_a_mask_draw_in_the_fill():
    chain = FontChain(size=SIZE)
    img = Image.new("L", (100, 40))
    chain.draw(ImageDraw.Draw(img), (2, 2), "ok 💙", fill=255)
    assert img.getbbox()


def test_missing_characters_are_reported_and_not_drawn():
    chain = FontChain(size=SIZE)
    unassigned, private = "\u0378", "\U0010fffd"
    text = f"a{unassigned}b{private}c"
    assert chain.missing(text) == [unassigned, private]
    assert chain.missing("abc 蜜蜂 💙") == []
    with_missing = _render(chain, text, width=80)
    without = _render(chain, "abc", width=80)
    assert with_missing.tobytes() == without.tobytes()


def test_rtl_direction_and_visual_order():
    assert is_rtl("שלום Hello") and is_rtl("123 مرحبا")
    assert not is_rtl("Hello שלום") and not is_rtl("蜜蜂")
    chain = FontChain(size=SIZE)
    # One font draws the whole line: one run, shaped whole by raqm.
    (run,) = chain.runs("رقصة النحل 123")
    assert run.direction is None
    # Mixed fonts in a right-to-left paragraph: the first word is drawn rightmost.
    runs = [r.text for r in chain.runs("שלום Hello עולם") if r.text.strip()]
    assert runs == ["עולם", "Hello", "שלום"]
    # And a right-to-left word inside a left-to-right line stays in its place.
    runs = [r.text for r in chain.runs("Hi שלום 💙 there") if r.text.strip()]
    assert runs == ["Hi", "שלום", "💙", "there"]


def test_span_of_a_word_in_an_rtl_line_is_on_the_right():
    chain = FontChain(size=SIZE)
    text = "שלום Hello"
    left, right = chain.span(text, 0, 4)
    assert right == pytest.approx(chain.length(text), abs=1)
    assert left > chain.length(text) / 2


def test_check_font_file(tmp_path):
    anton = FAMILIES["anton"].face(True).path
    assert check_font_file(anton) is None
    assert "does not exist" in check_font_file(tmp_path / "nope.ttf")
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font at all" * 100)
    assert "not a TrueType/OpenType font" in check_font_file(junk)
    hebrew_only = FontChain(size=SIZE).runs("שלום")[0].face.path
    assert "Latin letters" in check_font_file(hebrew_only)


def test_a_users_font_file_leads_the_chain(tmp_path):
    own = tmp_path / "MyFont.ttf"
    own.write_bytes(FAMILIES["luckiest-guy"].face(True).path.read_bytes())
    chain = FontChain(own, SIZE)
    assert chain.primary.path == own
    assert [r.face.path for r in chain.runs("Hello")] == [own]
    assert "CJK" in chain.runs("蜜蜂")[0].face.path.name


def test_bad_font_choices_name_the_problem(tmp_path):
    with pytest.raises(FontError, match="font must be one of noto-sans"):
        FontChain("comic-sans", SIZE)
    junk = tmp_path / "junk.otf"
    junk.write_bytes(b"\0" * 4000)
    with pytest.raises(FontError, match="junk.otf"):
        FontChain(junk, SIZE)
    with pytest.raises(FontError, match="size"):
        FontChain(size=0)


def test_controls_and_lone_joiners_are_neither_drawn_nor_reported():
    chain = FontChain(size=SIZE)
    assert chain.missing("a\tb\u200dc\x07") == []
    assert "".join(r.text for r in chain.runs("a\x07b")) == "ab"
    assert chain.runs("\x07") == []


def test_font_tables_are_cached_for_a_bounded_number_of_files(tmp_path):
    """Every uploaded font is a new file: the per-file caches keep the last
    FILE_CACHE of them, not every one a long-running server has seen."""
    anton = fonts.FAMILIES["anton"].face().path.read_bytes()
    for i in range(fonts.FILE_CACHE + 5):
        path = tmp_path / f"upload_{i}.ttf"
        path.write_bytes(anton)
        assert fonts.check_font_file(path) is None
        assert ord("A") in fonts.cmap(path)
    assert fonts._cmap.cache_info().currsize <= fonts.FILE_CACHE
    assert fonts._axes.cache_info().currsize <= fonts.FILE_CACHE
