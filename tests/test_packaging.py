"""What `make run` and `make test` install: the runtime set has no test tools,
and pyproject.toml and the pinned requirements files agree."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_TOOLS = {"pytest", "pytest-timeout", "schemathesis", "playwright", "moto", "trustme", "ruff"}


def pins(path: Path) -> dict[str, str]:
    """name -> exact version of a requirements file, following ``-r`` includes."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            out.update(pins(path.parent / line[3:].strip()))
        elif line:
            name, version = line.split("==")
            out[re.sub(r"\[.*\]", "", name).lower()] = version
    return out


def project_pins(*groups: str) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lists = [
        project["dependencies"] if g == "runtime" else project["optional-dependencies"][g]
        for g in groups
    ]
    return {
        re.sub(r"\[.*\]", "", d.split("==")[0]).lower(): d.split("==")[1]
        for deps in lists
        for d in deps
    }


def test_make_run_installs_no_test_tools():
    makefile = (ROOT / "Makefile").read_text()
    run_rule = re.search(r"^run: (.*)$", makefile, flags=re.M).group(1)
    assert run_rule.split() == ["$(RUN_STAMP)"]
    stamp_rule = re.search(r"^\$\(RUN_STAMP\):.*\n((?:\t.*\n)+)", makefile, flags=re.M).group(1)
    assert "-r requirements.txt" in stamp_rule and "requirements-test" not in stamp_rule
    runtime = pins(ROOT / "requirements.txt")
    assert "flask" in runtime and not TEST_TOOLS & set(runtime)


def test_the_pinned_files_match_pyproject():
    assert pins(ROOT / "requirements.txt") == project_pins("runtime", "scale")
    assert pins(ROOT / "requirements-test.txt") == project_pins("runtime", "scale", "test")
    assert TEST_TOOLS <= set(project_pins("test"))
