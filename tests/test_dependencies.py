"""Dependencies: what the code imports is declared in pyproject.toml, and the lock files pin, with
hashes, versions inside pyproject.toml's ranges (README, "Dependencies").

A package that is only installed because another one needs it (pydyf and fontTools came with
WeasyPrint) can disappear or change with that other package's next release: whatever the code
imports must be declared itself, in the production dependencies for the apps and in the `dev`
extra at least for tests/, bench/ and dev.py.
"""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = ROOT / "requirements" / "lock.txt"
DEV_LOCK = ROOT / "requirements" / "dev-lock.txt"

APPS = ("portal", "billing", "schedules", "notifications")
#: Top-level names of the project itself (apps, tests, benchmarks, root scripts).
FIRST_PARTY = {*APPS, "tests", "bench", "manage", "dev"}
#: Pinned to the tested release series because the code relies on their internals
#: (billing/pdf.py): the next series must be outside the range.
PINNED_SERIES = {"weasyprint": "70.1", "pydyf": "0.14"}


def _requirements(specs: list[str]) -> dict[str, Requirement]:
    reqs = (Requirement(spec) for spec in specs)
    return {canonicalize_name(r.name): r for r in reqs if r.marker is None or r.marker.evaluate()}


RUNTIME = _requirements(PYPROJECT["project"]["dependencies"])
DEV = _requirements(PYPROJECT["project"]["optional-dependencies"]["dev"])


def _imported_modules(path: Path) -> set[str]:
    """Top-level names of absolute imports anywhere in the file (function bodies included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _third_party_imports(paths) -> dict[str, set[str]]:
    """{distribution: {file, ...}} for every import of a package outside the stdlib/project."""
    distributions = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in paths:
        for module in _imported_modules(path):
            if module in sys.stdlib_module_names or module in FIRST_PARTY or module == "__future__":
                continue
            dists = distributions.get(module)
            assert dists, f"{path.relative_to(ROOT)} imports {module!r}, which is not installed"
            for dist in dists:
                found.setdefault(canonicalize_name(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def _python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def _read_lock(path: Path) -> dict[str, tuple[Version, list[str]]]:
    """{name: (version, hashes)} of a pip-compile --generate-hashes file."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pins = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        assert not line.startswith("-"), f"{path.name}: unexpected option line {line!r}"
        spec = line.split("--hash=", 1)[0]
        requirement = Requirement(spec)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{path.name}: {spec}"
        hashes = re.findall(r"--hash=(\S+)", line)
        pins[canonicalize_name(requirement.name)] = (Version(specifiers[0].version), hashes)
    return pins


def test_apps_import_only_declared_runtime_dependencies():
    files = _python_files(*APPS) + [ROOT / "manage.py"]
    undeclared = {
        dist: sorted(paths)
        for dist, paths in _third_party_imports(files).items()
        if dist not in RUNTIME
    }
    assert not undeclared, f"imported by the apps, not in [project].dependencies: {undeclared}"


def test_tests_and_tools_import_only_declared_dependencies():
    files = _python_files("tests", "bench") + [ROOT / "dev.py"]
    undeclared = {
        dist: sorted(paths)
        for dist, paths in _third_party_imports(files).items()
        if dist not in RUNTIME and dist not in DEV
    }
    assert not undeclared, f"imported, but declared nowhere in pyproject.toml: {undeclared}"


@pytest.mark.parametrize("path", [LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_lock_pins_every_package_with_hashes(path):
    pins = _read_lock(path)
    assert pins
    for name, (_version, hashes) in pins.items():
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), name


@pytest.mark.parametrize(
    ("path", "declared"),
    [(LOCK, RUNTIME), (DEV_LOCK, {**RUNTIME, **DEV})],
    ids=["lock.txt", "dev-lock.txt"],
)
def test_lock_satisfies_pyproject(path, declared):
    """Re-lock (`python3 dev.py lock`) after editing pyproject.toml: a range the lock does not
    satisfy, or a new dependency missing from it, fails here."""
    pins = _read_lock(path)
    for name, requirement in declared.items():
        assert name in pins, f"{name} is in pyproject.toml but not in {path.name}"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{path.name} pins {name}=={version}, outside pyproject.toml's {requirement}"
        )


def test_production_lock_is_the_dev_lock_without_dev_tools():
    """The Docker image runs exactly the versions the suite ran against."""
    prod, dev = _read_lock(LOCK), _read_lock(DEV_LOCK)
    assert set(prod) <= set(dev)
    for name, (version, hashes) in prod.items():
        assert dev[name] == (version, hashes), name
    for tool in ("pytest", "ruff", "playwright", "pre-commit"):
        assert tool in dev and tool not in prod, tool


@pytest.mark.parametrize("name", sorted(PINNED_SERIES))
def test_internals_dependencies_pinned_to_the_tested_series(name):
    specifier = RUNTIME[name].specifier
    locked = _read_lock(LOCK)[name][0]
    assert specifier.contains(locked)
    assert not specifier.contains(PINNED_SERIES[name]), f"{name}: {specifier} admits the next"
