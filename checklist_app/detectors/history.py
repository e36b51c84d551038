"""Detectors: git history (secrets ever committed, tests changed with code, migrations with models).

The commits, the files each one changed and their blob ids come from the one `git log --raw`
the project reads (`project.history()`), in chunks (one per scan that found new commits). Each
detector summarises a chunk with a pure function of its commits, remembered per chunk
(`project.history_facts`), so a rescan looks only at the new commits. Two detectors also need
file contents from the past:

- `committed_secrets` reads every version of every scanned file that a chunk wrote through
  `git cat-file --batch` (sizes checked first with `--batch-check`; large blobs, and bundled or
  large JavaScript and CSS, are not read), sniffs each where it differs from the version read
  before it for the tokens the rules start at, and scans those that may hold a secret where
  they differ from the version they replaced (plus a margin), which is exact: text that did
  not change was scanned in the version before. The versions are split by path into parts,
  scanned in the indexing workers when the project has them. The scan is the pure function
  `scan_blob_change(path, previous, current)`.
- `migrations_with_models` compares the schema that the two versions of each model file change
  declare (`schema_signature`, a pure function of the file text, remembered by blob ids).

Paths in git are relative to the top of the repository; when the project is a subfolder, the
testing and migration detectors look only at its own paths, and evidence outside it is shown
as `:/path` (git's notation for a path from the top).
"""

from __future__ import annotations

import ast
import hashlib
import math
import posixpath
import re
import warnings
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import accumulate
from typing import NamedTuple

from checklist_app.detectors.database import find_models
from checklist_app.detectors.evidence import excerpt, in_commit
from checklist_app.detectors.organization import is_test_path
from checklist_app.detectors.registry import detector
from checklist_app.findings import (
    Confidence,
    Evidence,
    Finding,
    failed,
    not_applicable,
    passed,
    unknown,
)
from checklist_app.project import Commit, Project
from checklist_app.project.git import ZERO_BLOB, Git, blob_sizes, read_blobs
from checklist_app.project.pyindex import parse_python

MAX_EVIDENCE = 10
MAX_BLOB_BYTES = 512 * 1024
"""Blobs larger than this are not read (git leaves them out of the listing)."""
BATCH_BYTES = 32 * 1024 * 1024
BATCH_BLOBS = 4096
"""One `git cat-file --batch` call reads at most this much; two batches are held at a time
(one being read by git while the other is scanned)."""
MAX_HITS_PER_BLOB = 20
SMALL_BLOB = 8192
"""Versions up to this size are scanned whole instead of only where they changed."""
BINARY_SNIFF = 8192
CONTEXT_BEFORE = 256
CONTEXT_AFTER = 256
"""How far around a change the scan goes (a rule may look further back: `_Rule.context`)."""

# --- paths ---------------------------------------------------------------------------------------


def _prefix(project: Project) -> str:
    """The project's folder inside the repository, with a trailing '/' ('' at the top)."""
    top = project.state.toplevel
    if top is None:
        return ""
    try:
        inner = project.root.relative_to(top.resolve()).as_posix()
    except ValueError:
        return ""
    return "" if inner == "." else inner + "/"


def _inside(prefix: str, path: str) -> str | None:
    """A repository path made relative to the project, None when it lies outside."""
    if not prefix:
        return path
    return path[len(prefix):] if path.startswith(prefix) else None


def _shown(prefix: str, path: str) -> str:
    inner = _inside(prefix, path)
    return inner if inner is not None else ":/" + path


# --- secrets in file names -----------------------------------------------------------------------

_ENV_TEMPLATES = frozenset({"example", "examples", "sample", "template", "dist", "default",
                            "defaults", "tmpl", "tpl", "skel", "in", "orig"})
_KEY_FILES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
_CREDENTIAL_FILES = frozenset({".pgpass", ".netrc", ".htpasswd", ".git-credentials"})
_CREDENTIAL_JSON = ("credentials", "client_secret", "service-account", "service_account",
                    "serviceaccount")


def secret_file_kind(path: str) -> str | None:
    """What kind of secret a file holds by its name alone (None for an ordinary name).

    `.env`, `.env.production`, `prod.env` are environment files; `.env.example`, `.env.sample`,
    `.env.template`, `example.env` ... are templates and do not count."""
    name = posixpath.basename(path).lower()
    if name == ".env" or name.startswith(".env."):
        parts = name.split(".")[2:]
        return None if any(p in _ENV_TEMPLATES for p in parts) else "environment file"
    if name.endswith(".env"):
        stem = name[:-4].strip(".").split(".")
        return None if any(p in _ENV_TEMPLATES for p in stem) else "environment file"
    if name in _KEY_FILES:
        return "SSH private key"
    if name.endswith((".p12", ".pfx")):
        return "certificate store with a private key"
    if name.endswith(".key"):
        return "private key file"
    if name.endswith((".jks", ".keystore")):
        return "Java keystore"
    if name in _CREDENTIAL_FILES:
        return "credentials file"
    if name.endswith(".json") and name.startswith(_CREDENTIAL_JSON):
        return "credentials file"
    return None


# --- secrets in file contents --------------------------------------------------------------------


class SecretHit(NamedTuple):
    """A secret found in one version of a file; the excerpt never shows the secret itself."""

    kind: str
    line: int
    excerpt: str
    certain: bool
    """A key with a recognisable format (AWS, GitHub, private key ...), not a guess from a
    variable name."""


class _Rule(NamedTuple):
    kind: str
    tokens: tuple[bytes, ...]
    """Fast literal prefilter: the rule runs only on lines holding one of these."""
    pattern: re.Pattern[bytes]
    value_groups: tuple[int, ...]
    """The groups that can hold the secret, one per way of writing it (double quotes, single
    quotes, unquoted); the secret is masked in the excerpt and checked for placeholders."""
    certain: bool
    config_only: bool = False
    any_case: bool = False
    """Its tokens are looked for in the lower-cased text (always so for `config_only` rules)."""
    unquoted_group: int = 0
    """The group of an unquoted value: not a literal in a Python file, so not counted there."""
    host_group: int = 0
    """For connection URLs: the host; a password for a local database is a development one."""
    masked: bool = True
    """Whether the matched text is the secret (a private key's header line is not)."""
    context: int = CONTEXT_BEFORE
    """How far before a change the rule looks (a private key's header may lie well before the
    changed part of its body)."""


_ASSIGN = rb"""['"]?\s*\]?\s*(?:=|:)\s*"""
_QUOTED = rb"""[rRbBuUfF]{0,2}(?:"([^"\n]+)"|'([^'\n]+)')"""
_FALLBACK = (rb"""[^\n]{0,120}?(?:\bor\s+|\bget(?:env)?\(\s*['"][^'"\n]*['"]\s*,\s*"""
             rb"""(?:default\s*=\s*)?)""")
"""The value read from elsewhere with a literal fallback: `os.environ.get("KEY") or "..."`,
`os.getenv("KEY", "...")`, `config.get("key", default="...")`."""

_SECRET_NAME = (rb"(?i)(?<![a-z0-9_.-])[a-z0-9_.-]*(?:secret|token|api[_-]?key|access[_-]?key"
                rb"|auth[_-]?key|private[_-]?key|signing[_-]?key|salt)[a-z0-9_]*")
"""Names of settings that hold a secret other than SECRET_KEY and passwords."""
_SECRET_NAME_TOKENS = (b"secret", b"token", b"api_key", b"apikey", b"access_key", b"accesskey",
                       b"auth_key", b"private_key", b"signing_key", b"salt")
"""Looked for in the lower-cased text."""

_RULES = (
    _Rule("AWS access key", (b"AKIA",),
          re.compile(rb"(?<![A-Z0-9])(AKIA[0-9A-Z]{16})(?![A-Z0-9])"), (1,), True),
    _Rule("private key", (b"PRIVATE KEY",),
          re.compile(rb"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)"), (1,), True,
          context=4096, masked=False),
    _Rule("GitHub token", (b"ghp_",),
          re.compile(rb"(?<![A-Za-z0-9_])(ghp_[A-Za-z0-9]{36})(?![A-Za-z0-9])"), (1,), True),
    _Rule("GitHub token", (b"github_pat_",),
          re.compile(rb"(github_pat_[A-Za-z0-9_]{60,})"), (1,), True),
    _Rule("Slack token", (b"xox",),
          re.compile(rb"(xox[abposr]-[0-9]{6,}-[0-9A-Za-z-]{6,})"), (1,), True),
    _Rule("Stripe live key", (b"k_live_",),
          re.compile(rb"(?<![A-Za-z0-9])([sr]k_live_[0-9A-Za-z]{20,})"), (1,), True),
    _Rule("Google API key", (b"AIza",),
          re.compile(rb"(AIza[0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])"), (1,), True),
    _Rule("hard-coded SECRET_KEY", (b"SECRET_KEY", b"secret_key"),
          re.compile(rb"(?i)secret_key" + _ASSIGN + _QUOTED), (1, 2), False),
    _Rule("hard-coded SECRET_KEY", (b"secret_key",),
          re.compile(rb"(?i)secret_key" + _ASSIGN + rb"""([^\s'"#,;]{12,})"""), (1,), False,
          config_only=True, unquoted_group=1),
    _Rule("hard-coded SECRET_KEY", (b"SECRET_KEY", b"secret_key"),
          re.compile(rb"(?i)secret_key" + _ASSIGN + _FALLBACK + _QUOTED), (1, 2), False),
    _Rule("hard-coded secret", _SECRET_NAME_TOKENS,
          re.compile(_SECRET_NAME + _ASSIGN + _QUOTED), (1, 2), False, any_case=True),
    _Rule("hard-coded secret", _SECRET_NAME_TOKENS,
          re.compile(_SECRET_NAME + _ASSIGN + rb"""([^\s'"#,;]{16,})"""), (1,), False,
          config_only=True, unquoted_group=1),
    _Rule("hard-coded secret", _SECRET_NAME_TOKENS,
          re.compile(_SECRET_NAME + _ASSIGN + _FALLBACK + _QUOTED), (1, 2), False,
          any_case=True),
    _Rule("password", (b"pass", b"pwd"),
          re.compile(rb"(?i)(?<![a-z0-9])(?:[a-z0-9]+[_.-])*(?:password|passwd|pwd|pass)"
                     + _ASSIGN + rb"(?:" + _QUOTED + rb"""|([^\s'"#,;{}()\[\]]+))"""), (1, 2, 3),
          False,
          config_only=True, unquoted_group=3),
    _Rule("password in a connection URL", (b"://",),
          re.compile(rb"[a-z][a-z0-9+.-]*://[^\s:/@'\"]+:([^\s@'\"/]+)@([^\s'\"/:?#]+)"), (1,),
          False, config_only=True, host_group=2),
)
_KEY_BODY = re.compile(rb"[A-Za-z0-9+/=]{40,}")

_PLACEHOLDER_WORDS = (
    "change", "replace", "your", "example", "sample", "placeholder", "dummy", "fake", "test",
    "xxx", "todo", "fixme", "insecure", "secret", "password", "default", "dev", "redacted",
    "hidden", "mock", "demo", "guess",
    "${", "{{", "%(", "...", "…", "os.environ", "getenv", "environ", "env(", "vault",
)
_DEFAULT_VALUES = frozenset({
    "password", "passwd", "pass", "pwd", "secret", "admin", "root", "postgres", "mysql", "user",
    "guest", "1234", "12345", "123456", "true", "false", "none", "null", "nil", "required",
    "optional", "string", "str", "bytes", "text", "int", "env", "self", "value", "sqlite",
    "yes", "no", "on", "off", "empty", "random",
})
_DESCRIPTION = re.compile(r"[a-z]+(?:[_ -][a-z]+){2,}")
"""`optional_passphrase_of_key`, `put your key here`: words describing a value, not one."""
_REFERENCE_STARTS = ("$", "%", "{", "<", "!", "@", "&", "*", "[", "(", "os.", "env", "settings.",
                     "config.", "self.", "app.")

_CONFIG_SUFFIXES = (".env", ".ini", ".cfg", ".conf", ".toml", ".yaml", ".yml", ".json",
                    ".properties", ".xml", ".config", ".envrc")
_CONFIG_WORDS = ("config", "settings", "secret", "credential", "conf", "local", "prod",
                 "environment")
_SKIPPED_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".gif", ".ico", ".bmp", ".webp", ".tif", ".tiff", ".psd", ".pdf",
    ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".jar", ".war", ".whl", ".egg",
    ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".avi", ".mov", ".wav", ".ogg",
    ".flac", ".so", ".dll", ".dylib", ".exe", ".bin", ".o", ".a", ".pyc", ".pyo", ".class",
    ".db", ".sqlite", ".sqlite3", ".npy", ".npz", ".pkl", ".h5", ".parquet", ".svg", ".map",
    ".min.js", ".min.css", ".lock", ".ai", ".eps", ".mo",
)
_SKIPPED_NAMES = frozenset({"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock",
                            "pipfile.lock", "uv.lock", "composer.lock", "cargo.lock"})


def is_config_like(path: str) -> bool:
    """Files where `password = "..."` is configuration, not code that handles passwords."""
    name = posixpath.basename(path).lower()
    if name.startswith(".env") or name.endswith(_CONFIG_SUFFIXES) or "docker-compose" in name:
        return True
    return name.endswith(".py") and any(word in name for word in _CONFIG_WORDS)


_DOC_FOLDERS = frozenset({"docs", "doc", "documentation"})
_DOC_SUFFIXES = (".rst", ".md", ".markdown", ".adoc", ".txt", ".html", ".ipynb")


def is_documentation(path: str) -> bool:
    """Documentation (a docs/ folder, README-like text): values in it are examples to copy."""
    parts = path.lower().split("/")
    return any(p in _DOC_FOLDERS for p in parts[:-1]) or parts[-1].endswith(_DOC_SUFFIXES)


_BUNDLE_SUFFIXES = (".js", ".mjs", ".cjs", ".css")
MIN_BUNDLE_LINE = 500
"""Front-end code whose lines average this many characters is minified or bundled output:
built from sources that are scanned themselves."""


MAX_SCRIPT_BYTES = 128 * 1024
"""JavaScript or CSS larger than this is a bundle or a vendored library: not read at all."""


def is_bundle(path: str, content: bytes) -> bool:
    """Minified or bundled JavaScript or CSS (long lines on average), which is not scanned."""
    return len(content) > SMALL_BLOB and path.lower().endswith(_BUNDLE_SUFFIXES) \
        and len(content) > MIN_BUNDLE_LINE * (content.count(b"\n") + 1)


def content_scanned(path: str) -> bool:
    """Whether a file's content is read for secrets (binary formats and lock files are not)."""
    name = posixpath.basename(path).lower()
    return name not in _SKIPPED_NAMES and not name.endswith(_SKIPPED_SUFFIXES)


_TEMPLATE = re.compile(r"<[^<>\n]*>|\[[a-z _-]+\]")
"""`<your key>`, `[password]`: a slot to fill in."""
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[0-7]{1,3}|.)")
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
MIN_GENERATED = 12
"""A generated secret (SECRET_KEY, token, salt) has at least this many characters."""
MIN_ENTROPY = 3.0
"""... and at least this many bits of Shannon entropy per character (hex from
`secrets.token_hex` has about 3.5-4, base64 about 4.5-6; words and repeats less)."""
MAX_DEFAULT_PASSWORD = 12
"""A password made of letters only, up to this long, is a documented default (`ctfd`,
`postgres`, `myprecious`), not a leaked credential."""


_PUBLISHED = frozenset({"6leixactaaaaajczvrqyhh71umiegnq_mxjizkhi",
                        "6leixactaaaaagg-vfi1tnrwxmznfuojj4wifjwe"})
"""Keys published for everyone to test with (Google's reCAPTCHA test key pair)."""


def _placeholder(value: bytes, rule: _Rule) -> bool:
    text = value.decode("utf-8", "replace").strip().lower()
    if not text or len(set(text)) <= 2 or text in _PUBLISHED:
        return True
    if rule.certain:
        return "example" in text or "xxxx" in text
    if text in _DEFAULT_VALUES or text.startswith(_REFERENCE_STARTS):
        return True
    if _DESCRIPTION.fullmatch(text) or _TEMPLATE.search(text):
        return True
    return any(word in text for word in _PLACEHOLDER_WORDS)


def literal_characters(text: str) -> tuple[str, int]:
    """The characters a quoted literal stands for (`\\xfd` is one character) and how many
    byte escapes (`\\x..`, octal) it holds: the repr of `os.urandom()` is written that way."""
    escapes = 0

    def one(match: re.Match[str]) -> str:
        nonlocal escapes
        code = match.group(0)[1:]
        if code[0] == "x" or code[0].isdigit():
            escapes += 1
            return chr(int(code[1:], 16) if code[0] == "x" else int(code, 8))
        return chr(int(code[1:], 16)) if code[0] == "u" else code
    return _ESCAPE.sub(one, text), escapes


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in counts.values()) if size else 0.0


def words_only(text: str) -> bool:
    """Letters in words (`reallyhardtoguess`, `secret key`, `MyPrecious`), maybe with separators:
    what a person types, not what a generator makes (random text of 12 or more characters
    nearly always mixes in digits or both cases at random)."""
    letters = re.sub(r"[\s_.-]+", "", text)
    if not letters.isascii() or not letters.isalpha():
        return False
    if letters.islower() or letters.isupper():
        return True
    words = _WORD.findall(letters)
    return sum(len(w) for w in words) / max(1, len(words)) >= 4


def looks_generated(value: str) -> bool:
    """Whether a literal looks machine-generated: random bytes written with escapes
    (`'\\xfd{H\\xe5<...'`), or 12+ characters of high entropy that are not words, with no
    spaces and no URL."""
    chars, escapes = literal_characters(value.strip())
    if escapes >= 4 and len(chars) >= MIN_GENERATED:
        return True
    if len(chars) < MIN_GENERATED or any(c.isspace() for c in chars) or "://" in chars:
        return False
    return not words_only(chars) and entropy(chars) >= MIN_ENTROPY


def default_password(value: str) -> bool:
    """A short password of letters only (`ctfd`, `postgres`): a documented default."""
    chars, _ = literal_characters(value.strip())
    return len(chars) <= MAX_DEFAULT_PASSWORD and words_only(chars)


def _mask(line: bytes, start: int, end: int) -> str:
    secret = line[start:end]
    shown = secret[:4] + b"..." if len(secret) > 12 else b"***"
    return excerpt((line[:start] + shown + line[end:]).decode("utf-8", "replace"))


def _changed_window(previous: bytes, current: bytes) -> tuple[int, int]:
    """The part of `current` that differs from `previous`: after the common prefix, before the
    common suffix."""
    limit = min(len(previous), len(current))
    prefix = _common_prefix(previous, current, limit)
    suffix = _common_suffix(previous, current, limit - prefix)
    return prefix, len(current) - suffix


FIRST_BLOCK = 4096
"""The texts are compared in blocks growing fourfold from this size, each compared whole (in C);
the first block that differs is halved down to this size, and the last block is compared as one
big number: the highest bit where they differ gives the first (or, read backwards, the last)
differing byte."""


def _common_prefix(first: bytes, second: bytes, limit: int) -> int:
    """How many bytes (at most `limit`) the two texts share at their start."""
    done, step = 0, FIRST_BLOCK
    while done < limit:
        end = min(limit, done + step)
        if first[done:end] != second[done:end]:
            while end - done > FIRST_BLOCK:  # first[:done] == second[:done]; not up to end
                middle = (done + end) // 2
                if first[done:middle] == second[done:middle]:
                    done = middle
                else:
                    end = middle
            differ = int.from_bytes(first[done:end], "big") ^ \
                int.from_bytes(second[done:end], "big")
            return end - (differ.bit_length() + 7) // 8
        done, step = end, step * 4
    return limit


def _common_suffix(first: bytes, second: bytes, limit: int) -> int:
    """How many bytes (at most `limit`) the two texts share at their end."""
    one, two = len(first), len(second)
    done, step = 0, FIRST_BLOCK
    while done < limit:
        end = min(limit, done + step)
        if first[one - end:one - done] != second[two - end:two - done]:
            while end - done > FIRST_BLOCK:  # the last `done` bytes agree, the last `end` not
                middle = (done + end) // 2
                if first[one - middle:one - done] == second[two - middle:two - done]:
                    done = middle
                else:
                    end = middle
            differ = int.from_bytes(first[one - end:one - done], "little") ^ \
                int.from_bytes(second[two - end:two - done], "little")
            return end - (differ.bit_length() + 7) // 8
        done, step = end, step * 4
    return limit


def scan_blob_change(path: str, previous: bytes | None, current: bytes) -> tuple[SecretHit, ...]:
    """Secrets in `current` (a version of the file at `path`) where it differs from `previous`
    (the version read before it, None for the first): only the changed region and a margin
    around it are scanned (all of a small text), so a secret near the change may be found
    again: callers report each secret once. A pure function of its arguments."""
    if b"\0" in current[:BINARY_SNIFF]:
        return ()
    if previous is None or len(current) <= SMALL_BLOB:
        changed, end = 0, len(current)  # a small text is scanned faster than compared
    else:
        changed, end = _changed_window(previous, current)
        if changed >= end:
            return ()
        end = min(len(current), end + CONTEXT_AFTER)
    config = is_config_like(path)
    guesses = not (is_test_path(path) or is_documentation(path))
    start = max(0, changed - CONTEXT_BEFORE)
    lowered = current[start:end].lower() if guesses else b""
    found = _Hits(current, path.endswith(".py"))
    for token, folded, rules, context, certain, config_only in _TOKENS:
        if (config_only and not config) or not (certain or guesses):
            continue
        haystack, offset = (lowered, start) if folded else (current, 0)
        high = end - offset
        position = haystack.find(token, max(0, changed - context) - offset if not folded else 0,
                                 high)
        while position >= 0 and not found.full:
            line_start = current.rfind(b"\n", 0, position + offset) + 1
            line_end = current.find(b"\n", position + offset)
            line_end = len(current) if line_end < 0 else line_end
            for rule in rules:
                if rule.any_case and line_end - line_start > LONG_LINE:
                    _check_near(found, rule, haystack, token, offset, line_start, line_end)
                else:
                    found.check(rule, line_start, line_end)
            following = line_end - offset + 1
            position = haystack.find(token, following, high) if following < high else -1
    return tuple(sorted(found.hits, key=lambda h: h.line))


LONG_LINE = 1024
NEAR_BEFORE = 128
NEAR_AFTER = 512
"""On a long line (minified code) a rule looked for by a common word runs only near each
occurrence of it: from this far before to this far after."""


def _check_near(found: _Hits, rule: _Rule, haystack: bytes, token: bytes, offset: int,
                line_start: int, line_end: int) -> None:
    position = haystack.find(token, line_start - offset, line_end - offset)
    while position >= 0 and not found.full:
        at = position + offset
        found.check(rule, max(line_start, at - NEAR_BEFORE), min(line_end, at + NEAR_AFTER))
        position = haystack.find(token, position + len(token), line_end - offset)


def _token_table() -> tuple[tuple[bytes, bool, tuple[_Rule, ...], int, bool, bool], ...]:
    """(token, searched in lower case, rules it starts, how far before a change it is looked
    for, whether those rules are certain, whether they apply to configuration files only): one
    search per token and kind of rule. Guesses (rules that are not certain) do not run on tests
    and documentation; only they are looked for in lower case."""
    table: dict[tuple[bytes, bool, bool, bool], list[_Rule]] = {}
    for rule in _RULES:
        folded = rule.config_only or rule.any_case
        for token in rule.tokens:
            key = (token.lower() if folded else token, folded, rule.certain, rule.config_only)
            table.setdefault(key, []).append(rule)
    return tuple((token, folded, tuple(rules), max(r.context for r in rules), certain, config)
                 for (token, folded, certain, config), rules in table.items())


_TOKENS = _token_table()


class _Hits:
    """The secrets found in one version of a file, at most one per line and kind."""

    def __init__(self, current: bytes, python: bool) -> None:
        self.current = current
        self.python = python
        self.hits: list[SecretHit] = []
        self.seen: set[tuple[int, str]] = set()

    @property
    def full(self) -> bool:
        return len(self.hits) >= MAX_HITS_PER_BLOB

    def check(self, rule: _Rule, line_start: int, line_end: int) -> None:
        line = self.current[line_start:line_end]
        for match in rule.pattern.finditer(line):
            group = next((g for g in rule.value_groups if match.group(g) is not None), None)
            if group is None or (group == rule.unquoted_group and self.python):
                continue
            if not _is_secret(rule, match, group, self.current, line_start + match.end()):
                continue
            number = self.current.count(b"\n", 0, line_start) + 1
            if (number, rule.kind) in self.seen or self.full:
                continue
            same_line = [h for h in self.hits if h.line == number]
            if same_line and not rule.certain:
                continue  # one guess per line, and none where a key was recognised
            self.hits = [h for h in self.hits if h.line != number or h.certain]
            self.seen.add((number, rule.kind))
            shown = _mask(line, match.start(group), match.end(group)) if rule.masked \
                else excerpt(match.group(group).decode("ascii", "replace"))
            self.hits.append(SecretHit(rule.kind, number, shown, rule.certain))


def _is_secret(rule: _Rule, match: re.Match[bytes], group: int, current: bytes,
               after: int) -> bool:
    value = match.group(group)
    if _placeholder(value, rule):
        return False
    if rule.host_group and _local_host(match.group(rule.host_group)):
        return False
    if rule.kind == "private key":
        return _KEY_BODY.search(current, after, after + 600) is not None
    text = value.decode("utf-8", "replace")
    if rule.kind in ("hard-coded SECRET_KEY", "hard-coded secret"):
        return looks_generated(text)
    return not default_password(text)


def _local_host(host: bytes) -> bool:
    """localhost, a loopback address, or a one-word name (a docker-compose service: `db`)."""
    name = host.decode("ascii", "replace").lower().strip("[]")
    return name in ("localhost", "0.0.0.0", "::1") or name.startswith("127.") or "." not in name \
        or name.endswith((".local", ".localhost", ".test", ".example", ".invalid"))


# --- reading blobs -------------------------------------------------------------------------------


KEEP_BYTES = 64 * 1024 * 1024
"""How much content of the versions that may hold a secret is kept from the first reading; the
rest is read again."""


class _Found(NamedTuple):
    kind: str
    path: str
    """Path in the repository."""
    blob: str | None
    """The version it was found in (content hits); None for a secret file name."""
    line: int | None
    excerpt: str
    certain: bool
    commit: str
    """The oldest commit that wrote it."""


class _ChunkScan(NamedTuple):
    """The secrets in the file versions that one chunk of history wrote, and how many versions
    were read (None when git could not read them)."""

    found: tuple[_Found, ...]
    read: int | None


class _Version(NamedTuple):
    path: str
    previous: str
    """The blob it replaced (ZERO_BLOB when the file was added)."""
    blob: str
    commit: str


def _versions(commits: tuple[Commit, ...]) -> list[_Version]:
    """Each version of a scanned file the commits wrote, oldest first, each (path, blob) once."""
    seen: set[tuple[str, str]] = set()
    scanned: dict[str, bool] = {}
    versions = []
    for commit in reversed(commits):
        for change in commit.changes:
            if change.blob == ZERO_BLOB or (change.path, change.blob) in seen:
                continue
            wanted = scanned.get(change.path)
            if wanted is None:
                wanted = scanned[change.path] = content_scanned(change.path)
            if not wanted:
                continue
            seen.add((change.path, change.blob))
            versions.append(_Version(change.path, change.old_blob, change.blob, commit.sha))
    return versions


LAST_BYTES = 64 * 1024 * 1024
"""How much of the last version read of each path is kept to sniff the next one only where it
changed."""


class _LastVersions:
    """The last version read of each path, to sniff the next version only where it differs:
    text it shares with the version before was sniffed (and scanned) there already."""

    def __init__(self, most: int = LAST_BYTES) -> None:
        self._last: dict[str, tuple[str, bytes]] = {}
        self._bytes = 0
        self._most = most

    def changed_region(self, written: list[_Version], content: bytes) -> bytes:
        """The part of `content` to sniff: the lines that changed from the version it replaced
        (with the margin `scan_blob_change` looks at), or all of it when that version was not
        read here or the blob was written at several paths."""
        if len(written) != 1:
            return content
        before = self._last.get(written[0].path)
        if before is None or before[0] != written[0].previous:
            return content
        start, end = _changed_window(before[1], content)
        if start >= end:
            return b""  # only removed text: nothing new to find
        low = content.rfind(b"\n", 0, max(0, start - CONTEXT_BEFORE)) + 1
        high = content.find(b"\n", min(len(content), end + CONTEXT_AFTER))
        return content[low:high if high >= 0 else len(content)]

    def remember(self, written: list[_Version], sha: str, content: bytes) -> None:
        for version in written:
            old = self._last.get(version.path)
            if old is not None:
                self._bytes -= len(old[1])
            if self._bytes + len(content) > self._most:
                self._last.pop(version.path, None)
                continue
            self._last[version.path] = (sha, content)
            self._bytes += len(content)


_Tokens = tuple[tuple[bytes, ...], tuple[bytes, ...]]
"""The tokens a version is sniffed for: those looked for as they are, those looked for in the
lower-cased text."""


def _tokens_for(paths: Iterable[str]) -> _Tokens:
    """The tokens a version found at these paths is sniffed for (the most any path needs)."""
    config = guesses = False
    for path in paths:
        config = config or is_config_like(path)
        guesses = guesses or not (is_test_path(path) or is_documentation(path))
    return _SNIFF[(config, guesses)]


def _scan_chunk(project: Project, commits: tuple[Commit, ...]) -> _ChunkScan:
    """Secrets in every version of a scanned file that `commits` wrote. The versions are split
    by path into parts of about the same size, scanned in parallel where the project has worker
    processes (see `_scan_part`)."""
    versions = _versions(commits)
    paths_of: dict[str, list[str]] = {}
    for version in versions:
        paths_of.setdefault(version.blob, []).append(version.path)
    sizes = blob_sizes(project.git, list(paths_of))
    if sizes is None:
        return _ChunkScan((), None)
    readable = {sha for sha, size in sizes.items() if 0 < size <= MAX_BLOB_BYTES and not (
        size > MAX_SCRIPT_BYTES
        and all(path.lower().endswith(_BUNDLE_SUFFIXES) for path in paths_of[sha]))}
    parts = _parts(versions, sizes, readable, project.workers)
    share = max(1, len(parts))  # each part gets its share of the memory budgets
    arguments = []
    for part in parts:  # each part is sent the sizes of its own blobs only
        blobs = {version.blob for _, version in part}
        arguments.append((project.git, part, {sha: sizes[sha] for sha in blobs if sha in sizes},
                          readable & blobs, KEEP_BYTES // share, LAST_BYTES // share))
    scanned = project.in_workers(_scan_part, arguments)
    found = [hit for _, hit in sorted((hit for part in scanned for hit in part),
                                      key=lambda numbered: numbered[0])]
    read = sum(1 for v in versions if v.blob in readable)
    return _ChunkScan(tuple(found), read)


def _parts(versions: list[_Version], sizes: dict[str, int], readable: set[str],
           count: int) -> list[list[tuple[int, _Version]]]:
    """The versions, numbered, in `count` parts (fewer when there is little to read) of about
    the same size to read, each path's versions all in one part and in order."""
    by_path: dict[str, list[tuple[int, _Version]]] = {}
    weight: dict[str, int] = {}
    for number, version in enumerate(versions):
        by_path.setdefault(version.path, []).append((number, version))
        if version.blob in readable:
            weight[version.path] = weight.get(version.path, 0) + sizes[version.blob]
    total = sum(weight.values())
    count = max(1, min(count, total // PART_BYTES))
    parts: list[list[tuple[int, _Version]]] = [[] for _ in range(count)]
    loads = [0] * count
    for path in sorted(by_path, key=lambda p: -weight.get(p, 0)):
        lightest = loads.index(min(loads))
        parts[lightest].extend(by_path[path])
        loads[lightest] += weight.get(path, 0)
    for part in parts:
        part.sort(key=lambda numbered: numbered[0])
    return [part for part in parts if part]


PART_BYTES = 4 * 1024 * 1024
"""Less history than this to read for each part is not worth splitting."""


def _scan_part(git: Git, numbered: list[tuple[int, _Version]], sizes: dict[str, int],
               readable: set[str], budget: int, last_bytes: int) -> list[tuple[int, _Found]]:
    """Secrets in the given versions (with their numbers), each found once per path, kind and
    line text, with the number of the version it was found in. Every version is read once and
    sniffed for the tokens the rules start at; those that may hold a secret are scanned where
    they differ from the version they replaced (small ones whole). `budget` bytes of the
    suspects are kept from the first reading; the rest are read again; `last_bytes` of the
    versions read last are kept to compare the next ones with. A module-level function of plain
    values: it may run in a worker process."""
    versions = [version for _, version in numbered]
    of_blob: dict[str, list[_Version]] = {}
    for version in versions:
        of_blob.setdefault(version.blob, []).append(version)
    kept: dict[str, bytes] = {}
    suspects: set[str] = set()

    def suspect(sha: str, content: bytes) -> None:
        nonlocal budget
        suspects.add(sha)
        if len(content) <= budget:
            kept[sha] = content
            budget -= len(content)

    sniffer = _Sniffer(suspect)
    last = _LastVersions(last_bytes)
    tokens_of: dict[str, _Tokens] = {}
    for sha, content in read_blobs(git, (sha for sha in of_blob if sha in readable),
                                   MAX_BLOB_BYTES):
        written = of_blob[sha]
        if all(is_bundle(v.path, content) for v in written):
            continue
        if len(written) == 1:
            path = written[0].path
            if path not in tokens_of:
                tokens_of[path] = _tokens_for([path])
            tokens = tokens_of[path]
        else:
            tokens = _tokens_for(v.path for v in written)
        sniffer.add(tokens, sha, content, last.changed_region(written, content))
        last.remember(written, sha, content)
    sniffer.finish()
    # A large suspect is compared with the version it replaced, which is read now.
    again = {sha for sha in suspects if sha not in kept}
    again.update(v.previous for v in versions if v.blob in suspects
                 and sizes[v.blob] > SMALL_BLOB and v.previous != ZERO_BLOB
                 and v.previous not in kept)
    contents = kept
    if again:
        contents = dict(kept)
        contents.update(read_blobs(git, sorted(again), MAX_BLOB_BYTES))
    found: list[tuple[int, _Found]] = []
    seen: set[tuple[str, str, str]] = set()
    for number, version in numbered:
        current = contents.get(version.blob)
        if version.blob not in suspects or current is None:
            continue
        previous = contents.get(version.previous) if sizes[version.blob] > SMALL_BLOB else None
        for hit in scan_blob_change(version.path, previous, current):
            key = (version.path, hit.kind, hit.excerpt)
            if key not in seen:  # the same line in a later version: reported once
                seen.add(key)
                found.append((number, _Found(hit.kind, version.path, version.blob, hit.line,
                                             hit.excerpt, hit.certain, version.commit)))
    return found


def _sniff_table() -> dict[tuple[bool, bool], _Tokens]:
    """For (configuration file, guesses run): the tokens looked for as they are and the tokens
    looked for in the lower-cased text; a blob with none of them holds no secret the rules
    find (every rule starts at one of its tokens). A token holding another one is left out."""
    table = {}
    for config in (False, True):
        for guesses in (False, True):
            plain: set[bytes] = set()
            folded: set[bytes] = set()
            for token, is_folded, _rules, _context, certain, config_only in _TOKENS:
                if (config_only and not config) or not (certain or guesses):
                    continue
                (folded if is_folded else plain).add(token)
            lower = tuple(sorted(t for t in folded if not any(o != t and o in t for o in folded)))
            exact = tuple(sorted(t for t in plain
                                 if not any(o != t and o in t for o in plain)
                                 and not any(o in t.lower() for o in lower)))
            table[(config, guesses)] = (exact, lower)
    return table


_SNIFF = _sniff_table()


SNIFF_BATCH_BYTES = 1024 * 1024
SNIFF_HELD_BYTES = 16 * 1024 * 1024
"""Changed regions are sniffed together, up to this many bytes of them (or of the versions
they come from, held until sniffed) at a time."""


class _Batch:
    """Changed regions waiting to be sniffed together, with their versions."""

    def __init__(self) -> None:
        self.shas: list[str] = []
        self.contents: list[bytes] = []
        self.regions: list[bytes] = []
        self.region_bytes = 0
        self.held_bytes = 0

    def add(self, sha: str, content: bytes, region: bytes) -> None:
        self.shas.append(sha)
        self.contents.append(content)
        self.regions.append(region)
        self.region_bytes += len(region) + 1
        self.held_bytes += len(content)

    @property
    def full(self) -> bool:
        return self.region_bytes >= SNIFF_BATCH_BYTES or self.held_bytes >= SNIFF_HELD_BYTES


class _Sniffer:
    """Decides which versions may hold a secret: `scan_blob_change` can find nothing new in a
    binary version, nor in one whose changed region holds none of the tokens the rules start
    at. The regions wanting the same tokens are joined (a NUL, which no token holds, between
    two) and each token is looked for once per batch, not once per version. `suspect` gets
    each version that may hold a secret, in the order they were added, batch by batch."""

    def __init__(self, suspect: Callable[[str, bytes], None]) -> None:
        self._suspect = suspect
        self._batches: dict[_Tokens, _Batch] = {}

    def add(self, tokens: _Tokens, sha: str, content: bytes, region: bytes) -> None:
        """Sniff `region`, the part of version `sha` (`content`) that changed."""
        if not region or content.find(b"\0", 0, BINARY_SNIFF) >= 0:
            return
        batch = self._batches.get(tokens)
        if batch is None:
            batch = self._batches[tokens] = _Batch()
        batch.add(sha, content, region)
        if batch.full:
            self._flush(tokens)

    def finish(self) -> None:
        for tokens in list(self._batches):
            self._flush(tokens)

    def _flush(self, tokens: _Tokens) -> None:
        batch = self._batches.pop(tokens)
        joined = b"\0".join(batch.regions)
        starts = list(accumulate((len(r) + 1 for r in batch.regions[:-1]), initial=0))
        exact, lower = tokens
        hit: set[int] = set()
        for text, wanted in ((joined, exact), (joined.lower() if lower else b"", lower)):
            for token in wanted:
                position = text.find(token)
                while position >= 0:
                    index = bisect_right(starts, position) - 1
                    hit.add(index)
                    if index + 1 == len(starts):
                        break
                    position = text.find(token, starts[index + 1])
        for index in sorted(hit):
            self._suspect(batch.shas[index], batch.contents[index])


def _read(project: Project, shas: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """Each blob's content as git reads it (git reads ahead while the caller works)."""
    return read_blobs(project.git, shas, MAX_BLOB_BYTES)


_CONTENT_SCAN = "committed_secrets.chunk.v4." + hashlib.sha1(repr((
    _RULES, _PLACEHOLDER_WORDS, sorted(_DEFAULT_VALUES), sorted(_PUBLISHED), MIN_GENERATED,
    MIN_ENTROPY, MAX_DEFAULT_PASSWORD, _SKIPPED_SUFFIXES, sorted(_SKIPPED_NAMES),
    _DOC_SUFFIXES, sorted(_DOC_FOLDERS), SMALL_BLOB, MAX_BLOB_BYTES, _BUNDLE_SUFFIXES,
    MIN_BUNDLE_LINE, MAX_SCRIPT_BYTES)).encode()).hexdigest()[:12]
"""The kind of a remembered scan of one chunk of history: it names the rules, so a scan made
with other rules is not reused (bump the version when the scanning code changes)."""


def _chunk_named_files(commits: tuple[Commit, ...]) -> tuple[tuple[str, str, str], ...]:
    """(path, kind, commit) for each file whose name says it holds a secret, with the oldest
    of the commits that added or changed it."""
    first: dict[str, tuple[str, str]] = {}
    kinds: dict[str, str | None] = {}
    for commit in commits:  # newest first: keep overwriting to end at the oldest
        for change in commit.changes:
            if change.status in "AMT":
                if change.path not in kinds:
                    kinds[change.path] = secret_file_kind(change.path)
                kind = kinds[change.path]
                if kind is not None:
                    first[change.path] = (kind, commit.sha)
    return tuple((path, kind, sha) for path, (kind, sha) in sorted(first.items()))


_NAMED_FILES = "committed_secrets.names.v1"


def _named_files(project: Project) -> list[_Found]:
    """Files whose name says they hold a secret, each with the oldest commit adding it."""
    first: dict[str, tuple[str, str]] = {}
    for chunk in project.history_facts(_NAMED_FILES, _chunk_named_files):  # newest first
        for path, kind, sha in chunk:
            first[path] = (kind, sha)
    return [_Found(kind, path, None, None, f"{kind} committed", True, sha)
            for path, (kind, sha) in sorted(first.items())]


def _scan_contents(project: Project) -> tuple[list[_Found], int] | None:
    """Secrets in every version of every scanned file the history wrote, each reported once
    (its oldest version), and how many versions were read; None when git could not read them.
    Each chunk of history is scanned once and remembered."""
    scans = project.history_facts(_CONTENT_SCAN, partial(_scan_chunk, project),
                                  remember=lambda scan: scan.read is not None)
    found: list[_Found] = []
    seen: set[tuple[str, str, str]] = set()
    read = 0
    for scan in reversed(scans):  # oldest first
        if scan.read is None:
            return None
        read += scan.read
        for item in scan.found:
            key = (item.path, item.kind, item.excerpt)
            if key not in seen:
                seen.add(key)
                found.append(item)
    return found, read


@detector("committed_secrets", early=True)
def committed_secrets(project: Project) -> Finding:
    """Fails when a secret was ever committed anywhere in the history reachable from HEAD, even
    if deleted since: files such as .env (not .env.example / .env.sample), private keys
    (id_rsa, *.key, *.p12, *.pfx, *.pem holding PRIVATE KEY), credentials JSON; and, in any
    version of any text file of up to 512 KB, AWS access keys (AKIA...), private key blocks,
    GitHub tokens (ghp_, github_pat_), Slack tokens (xoxb-/xoxp-), Stripe live keys, Google API
    keys, `SECRET_KEY = "<12+ characters>"` (minified or bundled JavaScript and CSS, and any
    over 128 KB, aside: it is built from sources that are read themselves), and in
    configuration files (`*.env`, `*.ini`,
    `*.yaml`, `*.json`, `config*.py`, ...) `password = "<literal>"` and passwords in
    connection URLs. Placeholders (changeme, your-..., xxx, <...>, ${VAR}, os.environ...) are
    not secrets. Evidence names the commit that added the secret, the path and the line; the
    secret itself is masked. Unknown without git history; medium confidence in a shallow clone.
    """
    history = project.history()
    if not project.state.is_git or not history.available:
        return unknown(f"git history cannot be read: {history.problem}")
    if not history.count:
        return passed("the repository has no commits yet")
    prefix = _prefix(project)
    found = _named_files(project)
    scanned = _scan_contents(project)
    if scanned is not None:
        found += sorted(scanned[0], key=lambda f: (f.path, f.line or 0, f.kind))
    if found:
        return _secrets_found(prefix, found)
    if scanned is None:
        return unknown("git could not read the files of past commits, so their contents were "
                       "not read (no secret file name was found in the history)")
    shallow = " (shallow clone: older history is missing)" if history.shallow else ""
    return passed(f"no secret found in {history.count} commits: {scanned[1]} file "
                  f"versions of up to {MAX_BLOB_BYTES // 1024} KB were read{shallow}",
                  confidence=Confidence.MEDIUM if history.shallow else Confidence.HIGH)


def _secrets_found(prefix: str, found: list[_Found]) -> Finding:
    evidence = []
    for item in found:
        text = item.excerpt if item.line is None else f"{item.kind}: {item.excerpt}"
        evidence.append(Evidence(_shown(prefix, item.path), item.line, item.commit,
                                 excerpt(text)))
    evidence = list(dict.fromkeys(evidence))
    first = found[0]
    kinds = ", ".join(dict.fromkeys(f.kind for f in found))
    certain = any(f.certain for f in found)
    return failed(f"{len(evidence)} secret(s) found in git history ({kinds}), e.g. "
                  f"{first.kind} in {_shown(prefix, first.path)}; rotate them and remove them "
                  "from history", *evidence[:MAX_EVIDENCE],
                  confidence=Confidence.HIGH if certain else Confidence.MEDIUM)


# --- tests changed together with code ------------------------------------------------------------

_VERSION_FILES = frozenset({"_version.py", "__version__.py", "version.py", "__about__.py"})
_TOOLING_FILES = frozenset({"setup.py", "noxfile.py", "fabfile.py", "conftest.py"})


def is_migration_path(path: str) -> bool:
    """A schema migration: a .py or .sql file in a `migrations` or `alembic` folder (not the
    environment's env.py or __init__.py)."""
    parts = path.split("/")
    name = parts[-1]
    return (any(p in ("migrations", "alembic") for p in parts[:-1])
            and name.endswith((".py", ".sql")) and name not in ("env.py", "__init__.py"))


def is_code_path(path: str) -> bool:
    """Application Python code: not tests, migrations, docs, version files or tooling."""
    if not path.endswith(".py") or is_test_path(path) or is_migration_path(path):
        return False
    parts = path.split("/")
    if parts[0] in ("docs", "doc", "examples", "example") or any(
            p in ("migrations", "alembic") for p in parts[:-1]):
        return False
    return parts[-1] not in _VERSION_FILES and parts[-1] not in _TOOLING_FILES


class _CodeCommit(NamedTuple):
    """A commit that changed application code: the first such path, and whether the commit
    changed a test too."""

    sha: str
    subject: str
    path: str
    touches_tests: bool


class _ChunkCode(NamedTuple):
    """Whether any commit of a chunk changed a test, and its newest commits that changed
    application code (at most the window)."""

    ever_tests: bool
    code_commits: tuple[_CodeCommit, ...]


def _chunk_code_commits(prefix: str, window: int, commits: tuple[Commit, ...]) -> _ChunkCode:
    code_commits: list[_CodeCommit] = []
    ever_tests = False
    for commit in commits:
        if commit.merge:
            continue
        paths = [p for p in (_inside(prefix, c.path) for c in commit.changes) if p is not None]
        touches_tests = any(is_test_path(p) for p in paths)
        ever_tests = ever_tests or touches_tests
        if len(code_commits) < window:
            code = next((p for p in paths if is_code_path(p)), None)
            if code is not None:
                code_commits.append(_CodeCommit(commit.sha, commit.subject, code, touches_tests))
    return _ChunkCode(ever_tests, tuple(code_commits))


@detector("tests_with_code", early=True)
def tests_with_code(project: Project, window: int = 200, min_share: float = 0.2) -> Finding:
    """Looks at the newest `window` commits that changed application Python code (not tests,
    migrations, docs, version files or setup.py) and fails when fewer than `min_share` of them
    (default 20%) also changed a test (`test_*.py`, `*_test.py`, `conftest.py`, anything under
    `tests/`), or when no commit ever changed a test. Merge commits show no changes and are
    not counted. Medium confidence (low with fewer than 10 such commits); unknown without git
    history."""
    history = project.history()
    if not history.available:
        return unknown(f"git history cannot be read: {history.problem}")
    prefix = _prefix(project)
    kind = f"tests_with_code.chunk.v2:{window}:{prefix}"
    code_commits: list[_CodeCommit] = []
    ever_tests = False
    for summary in project.history_facts(kind, partial(_chunk_code_commits, prefix, window)):
        ever_tests = ever_tests or summary.ever_tests
        code_commits.extend(summary.code_commits[:window - len(code_commits)])
    if not code_commits:
        return not_applicable("no commit changed application Python code")
    without = [(c.sha, c.subject, c.path) for c in code_commits if not c.touches_tests]
    share = 1 - len(without) / len(code_commits)
    low = len(code_commits) < 10 or history.shallow
    confidence = Confidence.LOW if len(code_commits) < 10 else Confidence.MEDIUM
    scope = f"{len(code_commits) - len(without)} of the last {len(code_commits)} commits that " \
            f"changed application code also changed tests ({share:.0%})"
    examples = [in_commit(path, sha, subject) for sha, subject, path in without]
    if not ever_tests:
        return failed(f"no commit in {history.count} ever changed a test file",
                      *examples[:MAX_EVIDENCE],
                      confidence=Confidence.MEDIUM if low else Confidence.HIGH)
    if share < min_share:
        return failed(f"{scope}, below {min_share:.0%}; e.g. {examples[0].location}",
                      *examples[:MAX_EVIDENCE], confidence=confidence)
    with_tests = [in_commit(c.path, c.sha, c.subject) for c in code_commits if c.touches_tests]
    return passed(scope, *with_tests[:3], confidence=confidence)


# --- migrations changed together with models -----------------------------------------------------

_COLUMN_CALLS = frozenset({"Column", "mapped_column", "Table", "ForeignKey", "Index",
                           "UniqueConstraint", "CheckConstraint", "PrimaryKeyConstraint",
                           "ForeignKeyConstraint", "ManyToManyField", "OneToOneField"})
_PYTHON_ONLY = frozenset({"default", "onupdate", "doc", "info", "sort_order", "init", "repr",
                          "default_factory", "kw_only", "compare", "hash", "deferred",
                          "deferred_group", "deferred_raiseload", "active_history",
                          "insert_default", "related_name", "help_text", "verbose_name",
                          "validators", "on_delete_python"})
"""Keywords that change only Python behaviour, never the schema."""
_ZERO = "0" * 40
_TABLE_ATTRIBUTES = frozenset({"__tablename__", "__table_args__", "__table__", "__bind_key__",
                               "__abstract__"})


def _callee(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
    return ""


class _Segments:
    """The source text of nodes, without whitespace, so that a declaration compares equal
    wherever it stands and however it is wrapped (cheaper than `ast.dump`)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.starts = [0]
        for line in source.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def text(self, node: ast.AST) -> str:
        lineno = getattr(node, "lineno", None)
        end_lineno = getattr(node, "end_lineno", None)
        if lineno is None or end_lineno is None or end_lineno > len(self.starts) - 1:
            return ast.dump(node)
        start = self.starts[lineno - 1] + getattr(node, "col_offset", 0)
        end = self.starts[end_lineno - 1] + getattr(node, "end_col_offset", 0)
        return "".join(self.source[start:end].split())

    def declaration(self, node: ast.expr) -> str | None:
        """A column-like declaration with its Python-only keywords left out; None for other
        values."""
        name = _callee(node)
        if not isinstance(node, ast.Call) or not (name in _COLUMN_CALLS
                                                  or name.endswith("Field")):
            return None
        parts = [self.text(a) for a in node.args]
        parts += [self.text(k) for k in node.keywords if k.arg not in _PYTHON_ONLY]
        return f"{name}({','.join(parts)})"


def schema_signature(source: str, memo: dict[str, frozenset[str] | None] | None = None
                     ) -> frozenset[str] | None:
    """What the tables declared in a module look like: for each top-level class with columns or
    `__tablename__`, its table name (or class name) with each column's declaration, and each
    module-level `Table(...)`. Relationships and Python-side defaults are left out: they need
    no migration. None when the text does not parse. A pure function of the text.

    Only the class-level statements that mention a column or a table are parsed, one by one;
    when one of them does not parse on its own, the whole module is parsed instead (same
    result, slower). `memo` keeps the signature of each piece across the versions of a file.
    """
    quick = _quick_signature(source, {} if memo is None else memo)
    return quick if quick is not None else _parsed_signature(source)


def _parse(source: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return parse_python(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _parsed_signature(source: str) -> frozenset[str] | None:
    tree = _parse(source)
    if tree is None:
        return None
    segments = _Segments(source)
    parts: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            table, entries = node.name, []
            for statement in node.body:
                tablename, entry = _statement_entry(statement, segments)
                table = tablename or table
                if entry:
                    entries.append(entry)
            parts.update(f"{table}.{entry}" for entry in entries)
        elif isinstance(node, ast.Assign) and _callee(node.value) == "Table":
            parts.add("table:" + segments.text(node.value))
    return frozenset(parts)


_CLASS = re.compile(r"class\s+(\w+)")
_TOP_LEVEL = re.compile(r"^[^\s#)\]}]", re.M)
_SCHEMA_LINE = re.compile(r"^[ \t]+(?=\S)[^\n]*?(?:Column|mapped_column|column_property|Mapped"
                          r"|Table|__table|Field|ForeignKey|Index|Constraint|__abstract__"
                          r"|__bind_key__)", re.M)
_TABLE_LINE = re.compile(r"^[A-Za-z_][\w.]*\s*=[^\n]*\bTable\(", re.M)
_BODY_LINE = re.compile(r"^([ \t]+)[^\s#)\]}]", re.M)


def _statement_end(source: str, start: int, indent: int) -> int:
    """Where the statement starting at `start` (indented `indent` characters) ends: it goes on
    over blank lines, deeper-indented lines and lines that start with a closing bracket."""
    position = source.find("\n", start)
    while position >= 0:
        following = position + 1
        end = source.find("\n", following)
        line = source[following:end if end >= 0 else len(source)]
        rest = line.lstrip(" \t")
        if rest and len(line) - len(rest) <= indent and not rest.startswith((")", "]", "}")):
            return following
        position = end
    return len(source)


def _quick_signature(source: str, memo: dict[str, frozenset[str] | None]
                     ) -> frozenset[str] | None:
    """The signature read from a shortened module: each top-level class with only its
    class-level statements that mention a column or a table on their first line, and the
    module-level `x = Table(...)` statements. None when that text does not parse.

    The pieces are found with regular expressions, so only they are parsed; a column whose
    first line names nothing schema-like (`x = (\\n Column(...))`) is missed. `memo` keeps
    each top-level statement's piece and each piece's signature, for the next versions."""
    tops = [m.start() for m in _TOP_LEVEL.finditer(source)]
    parts: set[str] = set()
    for position, start in enumerate(tops):
        end = tops[position + 1] if position + 1 < len(tops) else len(source)
        block = source[start:end]
        key = "block:" + block  # (a piece never starts so: see _schema_piece)
        if key not in memo:
            piece = _schema_piece(block)
            memo[key] = frozenset() if piece is None else _piece_signature(piece, memo)
        signature = memo[key]
        if signature is None:
            return None  # a piece that does not parse on its own
        parts |= signature
    return frozenset(parts)


def _piece_signature(piece: str, memo: dict[str, frozenset[str] | None]
                     ) -> frozenset[str] | None:
    if piece not in memo:
        memo[piece] = _parsed_signature(piece)
    return memo[piece]


def _schema_piece(block: str) -> str | None:
    """What of one top-level statement declares a schema: a class reduced to its class-level
    statements that mention a column or a table on their first line, or a whole
    `x = Table(...)` statement; None for anything else."""
    if _TABLE_LINE.match(block):
        return block[:_statement_end(block, 0, 0)].rstrip() + "\n"
    header = _CLASS.match(block)
    if header is None:
        return None
    kept: list[str] = []
    body_indent: int | None = None
    for match in _SCHEMA_LINE.finditer(block):
        start = match.start()
        if body_indent is None:
            body = _BODY_LINE.search(block)
            body_indent = len(body.group(1).expandtabs(8)) if body is not None else -1
        line_end = block.find("\n", start)
        line = block[start:line_end if line_end >= 0 else len(block)]
        indent = len(line) - len(line.lstrip(" \t"))
        if len(line[:indent].expandtabs(8)) != body_indent:
            continue
        text = block[start:_statement_end(block, start, indent)].splitlines()
        if text and text[0].lstrip().startswith(("def ", "async def ", "@", "class ")):
            continue
        kept.extend("    " + row[indent:] for row in text)
    if not kept:
        return None
    return "\n".join([f"class {header.group(1)}:", *kept]) + "\n"


def _is_mapped(annotation: ast.expr) -> bool:
    """`Mapped[...]` (SQLAlchemy 2.0 typed columns and relationships)."""
    if not isinstance(annotation, ast.Subscript):
        return False
    base = annotation.value
    name = base.id if isinstance(base, ast.Name) else base.attr \
        if isinstance(base, ast.Attribute) else ""
    return name == "Mapped"


def _statement_entry(statement: ast.stmt, segments: _Segments) -> tuple[str | None, str | None]:
    """(the table name it sets, the schema entry it makes) for one class-body statement."""
    target: ast.expr
    value: ast.expr | None
    annotation: ast.expr | None
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target, value, annotation = statement.targets[0], statement.value, None
    elif isinstance(statement, ast.AnnAssign):
        target, value, annotation = statement.target, statement.value, statement.annotation
    else:
        return None, None
    if not isinstance(target, ast.Name):
        return None, None
    typed = segments.text(annotation) if annotation is not None and _is_mapped(annotation) \
        else ""
    if target.id in _TABLE_ATTRIBUTES and value is not None:
        table = str(value.value) if target.id == "__tablename__" and isinstance(
            value, ast.Constant) else None
        return table, f"{target.id}={segments.text(value)}"
    if value is not None and (declared := segments.declaration(value)) is not None:
        return None, f"{target.id}:{typed}={declared}"
    if value is None and typed:
        return None, f"{target.id}:{typed}"
    return None, None


def _migration_folders(project: Project) -> tuple[str, ...]:
    """Extra migration folders named by `script_location` in alembic.ini files."""
    folders = []
    for ini in project.glob("alembic.ini", "*/alembic.ini"):
        text = project.text(ini) or ""
        match = re.search(r"(?m)^\s*script_location\s*=\s*(\S+)", text)
        if match is None:
            continue
        location = match.group(1).replace("%(here)s/", "").replace("%(here)s", "")
        if ":" in location:  # a package resource (`myapp:migrations`)
            location = location.replace(".", "/").replace(":", "/")
        folders.append(posixpath.normpath(posixpath.join(posixpath.dirname(ini),
                                                         location)) + "/")
    return tuple(folders)


def _is_migration(path: str, folders: tuple[str, ...]) -> bool:
    if is_migration_path(path):
        return True
    return path.endswith((".py", ".sql")) and any(
        path.startswith(folder) and posixpath.basename(path) not in ("env.py", "__init__.py")
        for folder in folders)


class _ModelChange(NamedTuple):
    """A commit that changed model files: its place in its chunk (0 = newest) and its changes
    to those files as (blob before, blob after, path)."""

    position: int
    sha: str
    subject: str
    changes: tuple[tuple[str, str, str], ...]


class _ChunkMigrations(NamedTuple):
    """What one chunk of history says about models and migrations: where a commit changed a
    migration, and the commits that changed model files (newest first)."""

    migrating: tuple[int, ...]
    model_changes: tuple[_ModelChange, ...]


def _is_model_path(inner: str, model_files: frozenset[str]) -> bool:
    """A current model file, or a `models.py` / `models/` module that is not a test."""
    return inner in model_files or (
        inner.endswith(".py") and not is_test_path(inner)
        and (posixpath.basename(inner) == "models.py" or "models" in inner.split("/")[:-1]))


def _chunk_migrations(prefix: str, folders: tuple[str, ...], model_files: frozenset[str],
                      max_commits: int,
                      commits: tuple[Commit, ...]) -> _ChunkMigrations:
    migrating = []
    changed = []
    roles: dict[str, str] = {}  # path -> "migration", "model" or ""
    for position, commit in enumerate(commits):
        if commit.merge:
            continue
        models = []
        touches_migration = False
        for change in commit.changes:
            role = roles.get(change.path)
            if role is None:
                inner = _inside(prefix, change.path)
                role = roles[change.path] = "" if inner is None else "migration" \
                    if _is_migration(inner, folders) else "model" \
                    if _is_model_path(inner, model_files) else ""
            if role == "migration":
                touches_migration = True
            elif role == "model":
                models.append((change.old_blob, change.blob, change.path))
        if touches_migration:
            migrating.append(position)
        if models:
            changed.append(_ModelChange(position, commit.sha, commit.subject, tuple(models)))
    # Only the newest `max_commits` are looked at, and newer chunks come first.
    return _ChunkMigrations(tuple(migrating), tuple(changed[:max_commits]))


_SCHEMA_MARKERS = (b"Column", b"mapped_column", b"column_property", b"Mapped", b"Table",
                   b"__table", b"Field", b"ForeignKey", b"Index", b"Constraint", b"class ",
                   b"__abstract__", b"__bind_key__")
"""Text without any of these cannot declare or change a column or a table."""
MAX_STATEMENT_LINES = 200


def _statement_start(blob: bytes, line_start: int) -> int:
    """The start of the class-level statement a line belongs to: back over blank lines and
    lines indented deeper than a class body (continuation lines, method bodies)."""
    position = line_start
    for _ in range(MAX_STATEMENT_LINES):
        line_end = blob.find(b"\n", position)
        line = blob[position:line_end if line_end >= 0 else len(blob)]
        stripped = line.lstrip(b" \t")
        indent = len(line[:len(line) - len(stripped)].expandtabs(8))
        if stripped and indent <= 4 and not stripped.startswith((b")", b"]", b"}")):
            return position
        if position == 0:
            return 0
        position = blob.rfind(b"\n", 0, position - 1) + 1
    return position


def may_change_schema(old: bytes, new: bytes) -> bool:
    """Whether the change from `old` to `new` touches a statement that could declare a column or
    a table; when not, the versions need not be parsed. Errs on the side of True."""
    start, end = _changed_window(old, new)
    old_end = len(old) - (len(new) - end)
    for blob, low, high in ((new, start, end), (old, start, old_end)):
        line_end = blob.find(b"\n", max(low, high))
        region = blob[_statement_start(blob, blob.rfind(b"\n", 0, low) + 1):
                      line_end if line_end >= 0 else len(blob)]
        if any(marker in region for marker in _SCHEMA_MARKERS):
            return True
    return False


_PAIR_SCHEMA = "migrations_with_models.pair.v1"
"""The kind of a remembered change of a model file: the schema of its two versions (an empty
tuple when the change cannot touch the schema). Change it whenever `schema_signature` or
`may_change_schema` changes."""
_Signed = tuple[tuple[str, frozenset[str] | None], ...]


class _SchemaReader:
    """The schema of file versions, each version read once, and each class in it parsed once
    for all the versions that share it."""

    def __init__(self) -> None:
        self._pieces: dict[str, frozenset[str] | None] = {}
        self._versions: dict[str, frozenset[str] | None] = {}

    def signature(self, sha: str, content: bytes) -> frozenset[str] | None:
        if not content:
            return None
        if sha not in self._versions:
            self._versions[sha] = schema_signature(content.decode("utf-8", "replace"),
                                                   self._pieces)
        return self._versions[sha]

    def pair(self, old: str, new: str, before: bytes, after: bytes) -> _Signed:
        """(blob, schema) of each version of a change that may touch the schema; () when it
        cannot."""
        if old != _ZERO and new != _ZERO and before and after \
                and not may_change_schema(before, after):
            return ()
        return tuple((sha, self.signature(sha, content))
                     for sha, content in ((old, before), (new, after)) if sha != _ZERO)


def _signatures(project: Project, pairs: list[tuple[str, str]]
                ) -> dict[str, frozenset[str] | None]:
    """The schema of each version that takes part in a change that may touch the schema. Each
    change is remembered by its two blob ids, so a rescan reads only the new changes."""
    unique = list(dict.fromkeys(pairs))
    known: dict[tuple[str, str], _Signed] = {}
    for old, new in unique:
        found, signed = project.recall(_PAIR_SCHEMA, old + new)
        if found and isinstance(signed, tuple):
            known[(old, new)] = signed
    missing = [pair for pair in unique if pair not in known]
    shas = sorted({sha for pair in missing for sha in pair if sha != _ZERO})
    contents = dict(_read(project, shas))
    result: dict[str, frozenset[str] | None] = {}
    reader = _SchemaReader()
    for old, new in unique:
        signed = known.get((old, new))
        if signed is None:
            signed = reader.pair(old, new, contents.get(old, b""), contents.get(new, b""))
            if all(sha in contents for sha in (old, new) if sha != _ZERO):
                project.remembered(_PAIR_SCHEMA, old + new, partial(tuple, signed))
        for sha, signature in signed:
            result.setdefault(sha, signature)
    return result


def _union(signatures: dict[str, frozenset[str] | None],
           shas: list[str]) -> frozenset[str] | None:
    """The schema of several file versions together (a move between files changes nothing);
    None when one of them could not be read."""
    parts: set[str] = set()
    for sha in shas:
        if sha == _ZERO:
            continue
        signature = signatures.get(sha)
        if signature is None:
            return None
        parts |= signature
    return frozenset(parts)


@detector("migrations_with_models", early=True)
def migrations_with_models(project: Project, follow_commits: int = 3,
                           max_commits: int = 200) -> Finding:
    """Fails when a commit changed the schema its models declare (a column, a table, table
    arguments: `Column`/`mapped_column`/`Table`/`Mapped[...]` in a model class; relationships
    and Python-side defaults do not count) without a new or changed migration file (in a
    `migrations` or `alembic` folder, or alembic.ini's script_location) in the same commit or
    in the `follow_commits` commits after it (default 3, for people who generate the migration
    right after). Commits older than the first migration are not judged. Looks at the newest
    `max_commits` commits that changed a current model file or a `models.py` / `models/`
    module. Not applicable without models or without migrations; unknown without history."""
    history = project.history()
    if not history.available:
        return unknown(f"git history cannot be read: {history.problem}")
    models = find_models(project)
    if not models.classes:
        return not_applicable("no ORM model classes found")
    folders = _migration_folders(project)
    if not any(_is_migration(p, folders) for p in project.files):
        return not_applicable("the project has no migrations folder (see database.migrations)")
    prefix = _prefix(project)
    model_files = frozenset(models.files)
    kind = "migrations_with_models.chunk.v2:" + hashlib.sha1(
        repr((prefix, folders, sorted(model_files))).encode("utf-8", "surrogateescape")
    ).hexdigest()
    chunks = project.history_facts(f"{kind}:{max_commits}", partial(
        _chunk_migrations, prefix, folders, model_files, max_commits))
    migrating: list[int] = []
    versions: list[tuple[int, _ModelChange]] = []  # (index in the history, change), newest first
    offset = 0
    for chunk, summary in zip(history.chunks, chunks, strict=True):
        migrating.extend(offset + position for position in summary.migrating)
        for change in summary.model_changes:
            if len(versions) < max_commits:
                versions.append((offset + change.position, change))
        offset += chunk.count
    if not migrating:
        return failed("the migration files are not committed: no commit ever added one, so "
                      "the schema changes of the models reach nobody else",
                      confidence=Confidence.MEDIUM)
    oldest_migration = migrating[-1]
    signatures = _signatures(project, [(old, new) for _, change in versions
                                       for old, new, _ in change.changes])
    judged = 0
    offenders: list[Evidence] = []
    migrating_set = set(migrating)
    for index, change in versions:
        if index > oldest_migration:
            continue
        # Changes far from any column or table were not parsed: they change no schema.
        read = [(old, new) for old, new, _ in change.changes
                if (old == _ZERO or old in signatures) and (new == _ZERO or new in signatures)]
        before = _union(signatures, [old for old, _ in read])
        after = _union(signatures, [new for _, new in read])
        if before is None or after is None or before == after:
            continue
        judged += 1
        if any(j in migrating_set for j in range(max(0, index - follow_commits), index + 1)):
            continue
        offenders.append(in_commit(_shown(prefix, change.changes[0][2]), change.sha,
                                   change.subject))
    confidence = Confidence.MEDIUM if history.shallow else Confidence.HIGH
    window = f"in the same commit or the {follow_commits} after it"
    if offenders:
        return failed(f"{len(offenders)} of {judged} commits that changed model columns or "
                      f"tables had no new or changed migration {window}, e.g. "
                      f"{offenders[0].location}", *offenders[:MAX_EVIDENCE],
                      confidence=Confidence.MEDIUM)
    return passed(f"each of the {judged} commits that changed model columns or tables came "
                  f"with a migration {window}", confidence=confidence)
