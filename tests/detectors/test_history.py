"""History detectors on real temporary git repositories with several commits: outcome,
confidence and exact evidence (path, line and commit)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from textwrap import dedent

import pytest

from checklist_app.detectors import history, registered
from checklist_app.detectors.history import (
    _changed_window,
    _parsed_signature,
    _parts,
    _quick_signature,
    _Sniffer,
    _tokens_for,
    _Version,
    may_change_schema,
    scan_blob_change,
    schema_signature,
    secret_file_kind,
)
from checklist_app.findings import Confidence, Finding, Outcome
from checklist_app.project import Project, indexing
from checklist_app.project.cache import FactsCache
from checklist_app.project.git import Git, read_blobs
from tests.repos import Repo, git

MakeRepo = Callable[..., Repo]
RunDetector = Callable[..., Finding]

PASS, FAIL = Outcome.PASS, Outcome.FAIL
UNKNOWN, NOT_APPLICABLE = Outcome.UNKNOWN, Outcome.NOT_APPLICABLE
HIGH, MEDIUM, LOW = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW

AWS_KEY = "AKIA" + "QWERTYUIOPASDFGH"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
PRIVATE_KEY = ("-----BEGIN RSA PRIVATE KEY-----\n"
               "MIIEpAIBAAKCAQEA7bq98xkK2Lrq1mV8o0Vp7QnA9yF2wX3zHc4tB6uJd1sR0pLm\n"
               "-----END RSA PRIVATE KEY-----\n")


def src(text: str) -> str:
    return dedent(text).lstrip("\n")


def located(finding: Finding) -> list[tuple[str, int | None, str | None]]:
    return [(e.path, e.line, e.commit) for e in finding.evidence]


# --- secrets: names and contents -----------------------------------------------------------------


@pytest.mark.parametrize(("path", "kind"), [
    (".env", "environment file"),
    ("config/.env.production", "environment file"),
    ("deploy/prod.env", "environment file"),
    (".env.example", None),
    (".env.sample", None),
    ("example.env", None),
    (".flaskenv", None),
    ("keys/id_rsa", "SSH private key"),
    ("keys/id_rsa.pub", None),
    ("certs/server.key", "private key file"),
    ("certs/client.p12", "certificate store with a private key"),
    ("gcp/credentials.json", "credentials file"),
    ("client_secret_123.apps.json", "credentials file"),
    ("app/credentials.py", None),
])
def test_secret_file_names(path: str, kind: str | None) -> None:
    assert secret_file_kind(path) == kind


CONTENT_CASES = [
    pytest.param("app/aws.py", f'KEY = "{AWS_KEY}"\n', [("AWS access key", 1)], id="aws"),
    pytest.param("app/aws.py", 'KEY = "AKIAIOSFODNN7EXAMPLE"\n', [], id="aws-docs-example"),
    pytest.param("deploy.sh", f"export GH={GITHUB_TOKEN}\n", [("GitHub token", 1)], id="github"),
    pytest.param("certs/server.pem", "x\n" + PRIVATE_KEY, [("private key", 2)], id="pem"),
    pytest.param("app/check.py", 'if text.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n'
                 "    pass\n", [], id="key-header-in-code"),
    pytest.param("app/config.py", 'SECRET_KEY = "a8f5f167f44f4964e6c998dee827110c"\n',
                 [("hard-coded SECRET_KEY", 1)], id="secret-key"),
    pytest.param("app/__init__.py", 'app.config["SECRET_KEY"] = "9d2f7a61c04b4e3f8a1b"\n',
                 [("hard-coded SECRET_KEY", 1)], id="secret-key-in-any-file"),
    pytest.param("app/config.py", src("""
        import os
        SECRET_KEY = os.environ.get("SECRET_KEY")
        SECRET_KEY = "dev"
        SECRET_KEY = "change-me-in-production-please"
        SECRET_KEY = "<your secret key>"
        PASSWORD = os.environ["DB_PASSWORD"]
        PASSWORD_MIN_LENGTH = 8
        """), [], id="placeholders"),
    pytest.param("config/settings.yaml", "db:\n  user: app\n  password: s3cr3t-Pa55\n",
                 [("password", 3)], id="password-in-yaml"),
    pytest.param("config/settings.yaml", "db:\n  password: ${DB_PASSWORD}\n", [],
                 id="password-reference"),
    pytest.param("app/auth.py", 'password = "hunter2"\n', [], id="password-in-code"),
    pytest.param(".env", "DATABASE_URL=postgresql://app:Zq81xv@db.prod.example.com/app\n",
                 [("password in a connection URL", 1)], id="url-remote"),
    pytest.param(".env", "DATABASE_URL=postgresql://app:Zq81xv@localhost/app\n", [],
                 id="url-local"),
    pytest.param("logo.png", "\0PNG" + AWS_KEY, [], id="binary"),
    # Leaked: generated values, whatever the file (escaped bytes are the repr of os.urandom).
    pytest.param("src/wikmd/wikmd-config.yaml", "secret_key: '\\xfd{H\\xe5<\\x95\\xf9\\xe3"
                 "\\x96.5\\xd1\\x01O<!\\xd5\\xa2'\n", [("hard-coded SECRET_KEY", 1)],
                 id="escaped-bytes-yaml"),
    pytest.param("src/app/config.py", "A = 1\nSECRET_KEY = b'_5#y2L\"F4Q8z\\n\\xec]/'\n",
                 [("hard-coded SECRET_KEY", 2)], id="flask-docs-urandom-repr"),
    pytest.param("app/settings.py", 'STRIPE_API_KEY = "q8Zr2LkP0vXw7NbT4sYc"\n',
                 [("hard-coded secret", 1)], id="api-key-generated"),
    pytest.param("deploy/app.yaml", "auth:\n  jwt_secret: 3f9a7c2e1b8d4f60a5e7\n",
                 [("hard-coded secret", 2)], id="token-in-yaml-unquoted"),
    pytest.param("app/mail.py", 'password_salt = "Zk3j9QpL2mX8vR1t"\n',
                 [("hard-coded secret", 1)], id="salt"),
    pytest.param("config/db.yaml", "password: Tr0ub4dor&3\n", [("password", 1)],
                 id="password-with-digits"),
    pytest.param("config.py", "SECRET_KEY = os.environ.get('SECRET_KEY') or "
                 "'SjefBOa$1FgGco0SkfPO392qqH9%a492'\n"
                 "API_TOKEN = os.getenv('API_TOKEN', default='q8Zr2LkP0vXw7NbT4sYc')\n",
                 [("hard-coded SECRET_KEY", 1), ("hard-coded secret", 2)],
                 id="literal-fallbacks"),
    pytest.param("config.py", "SECRET_KEY = os.environ.get('SECRET_KEY', 'dev')\n"
                 "SECRET_KEY = os.environ.get('SECRET_KEY') or 'hard to guess string'\n"
                 "token = request.args.get('token', '')\n", [], id="placeholder-fallbacks"),
    # Documented defaults and test constants: words, short letter-only passwords, tests, docs.
    pytest.param("flaskbb/configs/default.py", 'SECRET_KEY = "secret key"\n'
                 'WTF_CSRF_SECRET_KEY = "reallyhardtoguess"\n', [], id="words"),
    pytest.param("app/config.py", 'SECRET_KEY = "ReallyHardToGuess"\n', [], id="camel-words"),
    pytest.param("docker-compose.yml", "    environment:\n      - MYSQL_ROOT_PASSWORD=ctfd\n"
                 "      - MYSQL_ALLOW_EMPTY_PASSWORD=yes\n", [], id="compose-defaults"),
    pytest.param("tests/conftest.py", "user = UserFactory(password='myprecious')\n"
                 'SECRET_KEY = "a8f5f167f44f4964e6c998dee827110c"\n', [], id="test-constants"),
    pytest.param("docs/installation.rst", '``SECRET_KEY = "9d2f7a61c04b4e3f8a1b"``\n', [],
                 id="docs-example"),
    pytest.param("flaskr/recaptcha.py", 'RECAPTCHA_SECRET_KEY = "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4'
                 'WifJWe"\n', [], id="published-test-key"),
    pytest.param("tests/test_aws.py", f'KEY = "{AWS_KEY}"\n', [("AWS access key", 1)],
                 id="recognised-key-in-tests"),
    pytest.param("app/views.py", 'csrf_token_name = "csrf_token"\n'
                 'TOKEN_URL = "https://example.org/oauth/token?x=Ab3kLm9Qz"\n', [],
                 id="token-names-without-secrets"),
    pytest.param("static/app.min.js", "var a=1;" * 300 + 'apiKey:"q8Zr2LkP0vXw7NbT4sYc"\n',
                 [("hard-coded secret", 1)], id="long-minified-line"),
]


@pytest.mark.parametrize(("path", "text", "expected"), CONTENT_CASES)
def test_secret_contents(path: str, text: str, expected: list[tuple[str, int]]) -> None:
    hits = scan_blob_change(path, None, text.encode())
    assert [(h.kind, h.line) for h in hits] == expected


def test_excerpts_never_show_the_secret() -> None:
    text = f'AWS = "{AWS_KEY}"\nSECRET_KEY = "a8f5f167f44f4964e6c998dee827110c"\n'
    hits = scan_blob_change("app/config.py", None, text.encode())
    assert [h.excerpt for h in hits] == ['AWS = "AKIA..."', 'SECRET_KEY = "a8f5..."']


@pytest.mark.parametrize(("previous", "current", "window"), [
    (b"abcdef", b"abcdef", (6, 6)),
    (b"abcdef", b"abXdef", (2, 3)),
    (b"abcdef", b"abcdefgh", (6, 8)),
    (b"abcdef", b"Zabcdef", (0, 1)),
    (b"abcdef", b"ab", (2, 2)),
    (b"x" * 20000 + b"1" + b"y" * 9000, b"x" * 20000 + b"22" + b"y" * 9000, (20000, 20002)),
])
def test_changed_window(previous: bytes, current: bytes, window: tuple[int, int]) -> None:
    assert _changed_window(previous, current) == window


def test_changed_window_agrees_with_comparing_byte_by_byte() -> None:
    def slow(previous: bytes, current: bytes) -> tuple[int, int]:
        limit = min(len(previous), len(current))
        prefix = 0
        while prefix < limit and previous[prefix] == current[prefix]:
            prefix += 1
        suffix = 0
        while suffix < limit - prefix and previous[-1 - suffix] == current[-1 - suffix]:
            suffix += 1
        return prefix, len(current) - suffix

    rng = random.Random(7)
    for round_ in range(3000):
        # Some texts span several of the blocks compared at once (4 KB, 16 KB, 64 KB ...).
        size = rng.randint(0, 300) if round_ % 10 else rng.randint(4000, 90000)
        previous = bytes(rng.choice(b"ab\n") for _ in range(min(size, 997))) * (size // 997 + 1)
        previous = previous[:size]
        current = bytearray(previous)
        for _ in range(rng.randint(0, 3)):
            at = rng.randint(0, len(current))
            if rng.random() < 0.5:
                current[at:at] = bytes(rng.choice(b"abc") for _ in range(rng.randint(1, 4)))
            else:
                del current[at:at + rng.randint(1, 4)]
        assert _changed_window(previous, bytes(current)) == slow(previous, bytes(current))


def test_only_the_changed_part_of_a_version_is_scanned() -> None:
    old = f'TOKEN = "{GITHUB_TOKEN}"\n'.encode() + b"x = 1\n" * 2000
    new = old + b"y = 2\n"
    assert [h.line for h in scan_blob_change("app/a.py", None, old)] == [1]
    assert scan_blob_change("app/a.py", old, new) == ()
    changed = old + f'K = "{AWS_KEY}"\n'.encode()
    assert [(h.kind, h.line) for h in scan_blob_change("app/a.py", old, changed)] == [
        ("AWS access key", 2002)]


# --- security.no-committed-secrets ---------------------------------------------------------------


def test_a_secret_deleted_long_ago_is_still_found(make_repo: MakeRepo,
                                                  run_detector: RunDetector) -> None:
    repo = make_repo({"app.py": "x = 1\n"})
    added = repo.commit({"app/aws.py": f'import boto3\nKEY = "{AWS_KEY}"\n'}, "add aws")
    repo.commit({"app/aws.py": 'import boto3\nKEY = os.environ["KEY"]\n'}, "use env")
    env = repo.commit({".env": "SECRET_KEY=x\n"}, "oops")
    repo.delete(".env")
    repo.commit(message="remove .env")
    found = run_detector("committed_secrets", repo.root)
    assert (found.outcome, found.confidence) == (FAIL, HIGH)
    assert located(found) == [(".env", None, env), ("app/aws.py", 2, added)]
    assert AWS_KEY not in found.evidence[1].excerpt


def test_clean_history_passes(make_repo: MakeRepo, run_detector: RunDetector) -> None:
    repo = make_repo({".env.example": "SECRET_KEY=change-me\n",
                      "app/config.py": 'SECRET_KEY = os.environ["SECRET_KEY"]\n'})
    repo.commit({"app/views.py": "def index():\n    return 'hi'\n"}, "views")
    found = run_detector("committed_secrets", repo.root)
    assert (found.outcome, found.confidence, located(found)) == (PASS, HIGH, [])
    assert "in 2 commits" in found.message


def test_the_same_secret_in_later_versions_is_reported_once(
        make_repo: MakeRepo, run_detector: RunDetector) -> None:
    repo = make_repo()
    first = repo.commit({"deploy/ci.yaml": "password: Qw8-zz91k\nname: a\n"}, "ci")
    repo.commit({"deploy/ci.yaml": "password: Qw8-zz91k\nname: b\n"}, "rename")
    found = run_detector("committed_secrets", repo.root)
    assert (found.outcome, found.confidence) == (FAIL, MEDIUM)
    assert located(found) == [("deploy/ci.yaml", 1, first)]


def test_secrets_outside_a_subfolder_project_are_shown_from_the_top(
        make_repo: MakeRepo, run_detector: RunDetector) -> None:
    repo = make_repo({"service/app.py": "x = 1\n"})
    added = repo.commit({"ops/id_rsa": PRIVATE_KEY}, "key")
    found = run_detector("committed_secrets", repo.root / "service")
    assert located(found) == [(":/ops/id_rsa", None, added), (":/ops/id_rsa", 1, added)]


def test_minified_bundles_are_not_read_for_secrets_but_their_sources_are(
        make_repo: MakeRepo, run_detector: RunDetector) -> None:
    bundle = "var a=1;" * 2000 + f'var t="{GITHUB_TOKEN}";' + "var b=2;" * 2000
    source = "const a = 1;\n" * 2000 + f'const t = "{GITHUB_TOKEN}";\n'
    repo = make_repo({"static/dist/app.js": bundle})
    assert run_detector("committed_secrets", repo.root).outcome is PASS
    repo.commit({"static/src/app.js": source}, "the source")
    found = run_detector("committed_secrets", repo.root)
    assert found.outcome is FAIL
    assert [e.path for e in found.evidence] == ["static/src/app.js"]


def test_history_parts_keep_each_path_whole_and_in_order() -> None:
    versions = [_Version(f"f{n % 5}.py", f"{n - 5:040x}", f"{n:040x}", f"c{n}")
                for n in range(40)]
    sizes = {v.blob: 1_000_000 * (1 + int(v.path[1])) for v in versions}
    parts = _parts(versions, sizes, set(sizes), 3)
    assert len(parts) == 3
    numbered = [pair for part in parts for pair in part]
    assert sorted(number for number, _ in numbered) == list(range(40))
    for part in parts:
        assert [number for number, _ in part] == sorted(number for number, _ in part)
    paths = [{version.path for _, version in part} for part in parts]
    assert sum(len(group) for group in paths) == 5  # no path is in two parts
    assert _parts(versions, sizes, set(), 3) == [list(enumerate(versions))]  # nothing to read


def _sniffed(tokens: tuple[tuple[bytes, ...], tuple[bytes, ...]],
             regions: list[bytes]) -> list[str]:
    """The regions (numbered) a sniffer flags, a binary version holding a token added last."""
    flagged: list[str] = []
    sniffer = _Sniffer(lambda sha, content: flagged.append(sha))
    for number, region in enumerate(regions):
        sniffer.add(tokens, f"{number}", region, region)
    sniffer.add(tokens, "binary", b"\0" + b"secret", b"secret")
    sniffer.finish()
    return flagged


def test_sniffing_in_batches_flags_the_versions_sniffing_each_alone_flags(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Regions are joined to be sniffed; a token split between two of them is in neither, and
    a binary version is never a suspect."""
    rng = random.Random(7)
    words = [b"x = 1", b"AKIA", b"Secret", b"tok", b"en", b"PASS", b"pwd", b"\n", b"://"]
    regions = [b" ".join(rng.choice(words) for _ in range(rng.randrange(0, 6)))
               for _ in range(300)]
    regions += [b"tok", b"en = 1", b"AK", b"IA"]
    for path in ("app/views.py", "config/settings.py", "tests/test_app.py"):
        tokens = _tokens_for([path])
        monkeypatch.setattr(history, "SNIFF_BATCH_BYTES", 1)
        alone = _sniffed(tokens, regions)
        exact, lower = tokens
        assert alone == [f"{n}" for n, region in enumerate(regions)
                         if any(t in region for t in exact)
                         or any(t in region.lower() for t in lower)]
        monkeypatch.setattr(history, "SNIFF_BATCH_BYTES", 1 << 20)
        assert alone and _sniffed(tokens, regions) == alone
        assert not {"300", "301", "302", "303"} & set(alone)


def test_history_scanned_in_parts_by_workers_finds_what_one_pass_finds(
        make_repo: MakeRepo, run_detector: RunDetector, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo({"app/a.py": "x = 1\n", "app/b.py": "y = 2\n",
                      "config/settings.py": "DEBUG = False\n"})
    added = repo.commit({"app/a.py": f'KEY = "{AWS_KEY}"\n'}, "a key")
    token = repo.commit({"config/settings.py": f'TOKEN = "{GITHUB_TOKEN}"\n'}, "a token")
    private = repo.commit({"app/b.py": "y = 3\n", "keys.txt": PRIVATE_KEY}, "a private key")
    repo.commit({"app/a.py": "x = 2\n"}, "the key removed")
    alone = run_detector("committed_secrets", repo.root)
    assert sorted(located(alone)) == [("app/a.py", 1, added), ("config/settings.py", 1, token),
                                      ("keys.txt", 1, private)]
    monkeypatch.setattr(indexing, "PARALLEL_FROM_MODULES", 2)
    monkeypatch.setattr(indexing, "PARALLEL_FROM_MODULES_FORKED", 2)
    monkeypatch.setattr(history, "PART_BYTES", 1)
    project = Project(repo.root)
    try:
        if project.workers < 2:
            pytest.skip("this machine has one core: no worker processes")
        split = registered()["committed_secrets"].run(project, {})
    finally:
        project.close()
    assert (split.message, located(split)) == (alone.message, located(alone))


def test_a_rescan_reads_only_new_blobs_and_finds_the_same(
        make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo({"app/config.py": "DEBUG = False\n"})
    leaked = repo.commit({"app/config.py": 'SECRET_KEY = "a8f5f167f44f4964e6c998dee827110c"\n'},
                         "key")
    repo.commit({"app/config.py": 'SECRET_KEY = os.environ["KEY"]\n'}, "env")
    asked: list[list[str]] = []

    def counting(git: Git, shas: Iterable[str], max_bytes: int) -> Iterator[tuple[str, bytes]]:
        listed = list(shas)
        asked.append(listed)
        return read_blobs(git, listed, max_bytes)

    monkeypatch.setattr(history, "read_blobs", counting)

    def scan() -> Finding:
        cache = FactsCache.for_project(tmp_path / "cache", repo.root)
        project = Project(repo.root, cache)
        found = history.committed_secrets(project)
        project.close()
        return found

    first = scan()
    assert located(first) == [("app/config.py", 1, leaked)]
    assert [len(shas) for shas in asked] == [3]
    assert scan() == first and len(asked) == 1  # same HEAD: nothing read
    old_head = git(repo.root, "rev-parse", "HEAD").strip()
    later = repo.commit({"app/views.py": f'TOKEN = "{GITHUB_TOKEN}"\n'}, "views")
    again = scan()
    new_blob = git(repo.root, "rev-parse", "HEAD:app/views.py").strip()
    assert asked[1] == [new_blob] and old_head != later
    assert located(again) == [("app/config.py", 1, leaked), ("app/views.py", 1, later)]
    repo.commit({"app/config.py": 'SECRET_KEY = os.environ["SECRET_KEY"]\n'}, "rename")
    scan()
    new = git(repo.root, "rev-parse", "HEAD:app/config.py").strip()
    assert asked[2] == [new]  # a small version is scanned whole: nothing else is read
    filler = "".join(f"OPTION_{n} = {n}\n" for n in range(1000))
    repo.commit({"app/settings.py": 'PASSWORD = os.environ["PASSWORD"]\n' + filler}, "big")
    scan()
    large = filler.replace("OPTION_500 = 500", "OPTION_500 = 501")
    repo.commit({"app/settings.py": 'PASSWORD = os.environ["PASSWORD"]\n' + large}, "edit")
    assert located(scan()) == [("app/config.py", 1, leaked), ("app/views.py", 1, later)]
    base = git(repo.root, "rev-parse", "HEAD~1:app/settings.py").strip()
    new = git(repo.root, "rev-parse", "HEAD:app/settings.py").strip()
    # A large version is compared with the version it replaced, which is read as well.
    assert asked[4:] == [[new], [base]]


def test_secrets_without_git_are_unknown(make_repo: MakeRepo,
                                         run_detector: RunDetector) -> None:
    repo = make_repo({".env": "A=1\n"}, git=False)
    assert run_detector("committed_secrets", repo.root).outcome is UNKNOWN


# --- testing.tests-with-code ---------------------------------------------------------------------


def test_tests_changing_with_code_pass(make_repo: MakeRepo, run_detector: RunDetector) -> None:
    repo = make_repo({"app/views.py": "a = 1\n", "tests/test_views.py": "def test(): pass\n"})
    repo.commit({"app/views.py": "a = 2\n", "tests/test_views.py": "def test(): 1\n"}, "both")
    repo.commit({"docs/conf.py": "x = 1\n", "migrations/versions/1.py": "y = 1\n"}, "no code")
    found = run_detector("tests_with_code", repo.root)
    assert (found.outcome, found.confidence) == (PASS, LOW)
    assert found.message.startswith("2 of the last 2 commits")


def test_code_without_tests_fails_with_examples(make_repo: MakeRepo,
                                                run_detector: RunDetector) -> None:
    repo = make_repo({"app/views.py": "a = 1\n", "tests/test_views.py": "def test(): pass\n"})
    shas = [repo.commit({"app/views.py": f"a = {n}\n"}, f"change {n}") for n in range(2, 6)]
    found = run_detector("tests_with_code", repo.root)
    assert (found.outcome, found.confidence) == (FAIL, LOW)
    assert located(found) == [("app/views.py", None, sha) for sha in reversed(shas)]
    assert found.message.startswith("1 of the last 5 commits")


def test_no_commit_ever_touching_tests_fails(make_repo: MakeRepo,
                                             run_detector: RunDetector) -> None:
    repo = make_repo({"app.py": "a = 1\n"})
    found = run_detector("tests_with_code", repo.root, min_share=0.0)
    assert (found.outcome, located(found)) == (FAIL, [("app.py", None, git(
        repo.root, "rev-parse", "HEAD").strip())])
    assert "ever changed a test" in found.message


def test_tests_with_code_needs_history(make_repo: MakeRepo, run_detector: RunDetector) -> None:
    repo = make_repo({"app.py": "a = 1\n"}, git=False)
    assert run_detector("tests_with_code", repo.root).outcome is UNKNOWN


# --- database.migrations-with-models -------------------------------------------------------------

MODEL_V1 = src("""
    from app.extensions import db


    class User(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String(80))

        def greet(self):
            return "hi"
    """)


def with_column(text: str, column: str) -> str:
    return text.replace("    def greet", f"    {column}\n\n    def greet")


def model_repo(make_repo: MakeRepo) -> Repo:
    return make_repo({"app/extensions.py": "from flask_sqlalchemy import SQLAlchemy\n"
                                           "db = SQLAlchemy()\n",
                      "app/models.py": MODEL_V1,
                      "migrations/env.py": "from alembic import context\n",
                      "migrations/versions/0001_init.py": "revision = '0001'\n"})


def test_model_change_with_its_migration_passes(make_repo: MakeRepo,
                                                run_detector: RunDetector) -> None:
    repo = model_repo(make_repo)
    repo.commit({"app/models.py": with_column(MODEL_V1, "email = db.Column(db.String(120))"),
                 "migrations/versions/0002_email.py": "revision = '0002'\n"}, "email")
    repo.commit({"app/models.py": with_column(MODEL_V1, "email = db.Column(db.String(120))")
                 .replace('"hi"', '"hello"')}, "greeting")
    found = run_detector("migrations_with_models", repo.root)
    assert (found.outcome, found.confidence, located(found)) == (PASS, HIGH, [])
    assert "each of the 2 commits" in found.message


def test_model_change_without_migration_fails(make_repo: MakeRepo,
                                              run_detector: RunDetector) -> None:
    repo = model_repo(make_repo)
    late = repo.commit({"app/models.py": with_column(MODEL_V1, "age = db.Column(db.Integer)")},
                       "age")
    for n in range(3):
        repo.commit({"README.md": f"{n}\n"}, f"docs {n}")
    repo.commit({"migrations/versions/0002_age.py": "revision = '0002'\n"}, "late migration")
    found = run_detector("migrations_with_models", repo.root)
    assert (found.outcome, found.confidence) == (FAIL, MEDIUM)
    assert located(found) == [("app/models.py", None, late)]
    passing = run_detector("migrations_with_models", repo.root, follow_commits=4)
    assert passing.outcome is PASS


@pytest.mark.parametrize("change", [
    pytest.param(lambda t: t.replace('"hi"', '"hello"'), id="method-body"),
    pytest.param(lambda t: with_column(t, 'posts = db.relationship("Post", lazy="select")'),
                 id="relationship"),
    pytest.param(lambda t: t.replace("db.String(80))", "db.String(80), default='x')"),
                 id="python-default"),
])
def test_changes_that_need_no_migration(make_repo: MakeRepo, run_detector: RunDetector,
                                        change: Callable[[str], str]) -> None:
    repo = model_repo(make_repo)
    repo.commit({"app/models.py": change(MODEL_V1)}, "tweak")
    found = run_detector("migrations_with_models", repo.root)
    assert (found.outcome, located(found)) == (PASS, [])
    assert "each of the 1 commits" in found.message


def test_commits_before_the_first_migration_are_not_judged(
        make_repo: MakeRepo, run_detector: RunDetector) -> None:
    repo = make_repo({"app/models.py": MODEL_V1})
    repo.commit({"app/models.py": with_column(MODEL_V1, "age = db.Column(db.Integer)")}, "age")
    repo.commit({"migrations/env.py": "from alembic import context\n",
                 "migrations/versions/0001_init.py": "revision = '0001'\n"}, "adopt alembic")
    found = run_detector("migrations_with_models", repo.root)
    assert (found.outcome, located(found)) == (PASS, [])


@pytest.mark.parametrize(("files", "git_repo", "outcome"), [
    pytest.param({"app.py": "x = 1\n", "migrations/versions/1.py": "x = 1\n"}, True,
                 NOT_APPLICABLE, id="no-models"),
    pytest.param({"app/models.py": MODEL_V1}, True, NOT_APPLICABLE, id="no-migrations"),
    pytest.param({"app/models.py": MODEL_V1}, False, UNKNOWN, id="no-git"),
])
def test_migrations_with_models_cannot_judge(make_repo: MakeRepo, run_detector: RunDetector,
                                             files: dict[str, str], git_repo: bool,
                                             outcome: Outcome) -> None:
    repo = make_repo(files, git=git_repo)
    assert run_detector("migrations_with_models", repo.root).outcome is outcome


SCHEMA_SOURCE = src("""
    import sqlalchemy as sa
    from sqlalchemy.orm import Mapped, mapped_column, relationship

    tags = sa.Table("tags", metadata, sa.Column("id", sa.Integer))


    @decorated
    class Post(Base):
        __tablename__ = "posts"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str]
        body = sa.Column(
            sa.Text,
            nullable=False,
            doc="the text",
        )
        author: Mapped["User"] = relationship(back_populates="posts")

        def summary(self):
            return sa.Column("not a column of the class")
    """)


def test_schema_signature() -> None:
    assert schema_signature(SCHEMA_SOURCE) == frozenset({
        'table:sa.Table("tags",metadata,sa.Column("id",sa.Integer))',
        'posts.__tablename__="posts"',
        "posts.id:Mapped[int]=mapped_column(primary_key=True)",
        "posts.title:Mapped[str]",
        "posts.body:=Column(sa.Text,nullable=False)",
    })
    assert _quick_signature(SCHEMA_SOURCE, {}) == _parsed_signature(SCHEMA_SOURCE)
    assert schema_signature("class A(Base):\n    id = Column(\n") is None
    assert schema_signature("def unrelated(:\n") == frozenset()


def test_only_changes_near_columns_need_parsing() -> None:
    old = SCHEMA_SOURCE.encode()
    assert may_change_schema(old, old.replace(b"not a column", b"still not"))
    assert may_change_schema(old, old.replace(b"nullable=False", b"nullable=True"))
    assert not may_change_schema(old + b"\n\ndef helper():\n    return 1\n",
                                 old + b"\n\ndef helper():\n    return 2\n")


def test_versions_read_again_find_what_versions_kept_find(
        make_repo: MakeRepo, run_detector: RunDetector, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large file whose plain versions hold no token is compared with the version before it
    whether the listing kept the contents (`KEEP_BYTES`) or they are read again."""
    filler = "".join(f"value_{n} = {n}\n" for n in range(2000))
    repo = make_repo({"app/big.py": filler, "app/other.py": "x = 1\n"})
    repo.commit({"app/big.py": filler + "y = 2\n"}, "plain")
    added = repo.commit({"app/big.py": filler + f'KEY = "{AWS_KEY}"\ny = 2\n'}, "key")
    repo.commit({"app/big.py": filler + f'KEY = "{AWS_KEY}"\ny = 3\n'}, "later")
    kept = run_detector("committed_secrets", repo.root)
    monkeypatch.setattr(history, "KEEP_BYTES", 0)
    again = run_detector("committed_secrets", repo.root)
    assert located(kept) == located(again) == [("app/big.py", 2001, added)]
