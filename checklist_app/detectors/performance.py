"""Detectors: performance and optimization (profiling, caching, rate limiting).

Code signals come from the application's modules (test files are left out for caching and rate
limiting); libraries only declared as dependencies count for less than code that uses them.
Reverse-proxy configuration files are read as text, line by line.

What each module holds is a module fact (computed where the module is indexed, and cached by
its content); the detectors combine those of every module, so they read no module themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from checklist_app.detectors.evidence import at_line
from checklist_app.detectors.organization import (
    FACTS_VERSION,
    Library,
    ModuleNames,
    application_names,
    find_libraries,
    in_test_dir,
    labels,
    modules_with,
    not_found,
    qualify,
    subclasses_of,
)
from checklist_app.detectors.registry import detector, module_fact
from checklist_app.findings import Confidence, Evidence, Finding, passed
from checklist_app.project import ModuleIndex, ParsedModule, Project
from checklist_app.project.pyindex import Value, ValueKind

MAX_EVIDENCE = 5

# --- performance.profiling -----------------------------------------------------------------------

PROFILING_LIBRARIES = (
    Library("Flask-DebugToolbar", ("flask_debugtoolbar",), ("flask-debugtoolbar",)),
    Library("Flask-Profiler", ("flask_profiler", "flask_profiler_v2"),
            ("flask-profiler", "flask-profiler-v2")),
    Library("werkzeug ProfilerMiddleware", ("werkzeug.middleware.profiler",
                                            "werkzeug.contrib.profiler"), ()),
    Library("Flask-MonitoringDashboard", ("flask_monitoringdashboard",),
            ("flask-monitoringdashboard",)),
    Library("pyinstrument", ("pyinstrument",), ("pyinstrument",)),
    Library("cProfile", ("cProfile", "pstats"), ()),
    Library("yappi", ("yappi",), ("yappi",)),
    Library("line_profiler", ("line_profiler",), ("line-profiler",)),
    Library("memory_profiler", ("memory_profiler",), ("memory-profiler",)),
    Library("py-spy", (), ("py-spy",)),
    Library("Scalene", ("scalene",), ("scalene",)),
    Library("OpenTelemetry", ("opentelemetry.instrumentation",),
            ("opentelemetry-instrumentation-flask", "opentelemetry-instrumentation-wsgi")),
    Library("Datadog APM", ("ddtrace",), ("ddtrace",)),
    Library("New Relic", ("newrelic",), ("newrelic",)),
    Library("Elastic APM", ("elasticapm",), ("elastic-apm",)),
    Library("Scout APM", ("scout_apm",), ("scout-apm",)),
    Library("Pyroscope", ("pyroscope",), ("pyroscope-io",)),
)
_SENTRY_CALLS = frozenset({"sentry_sdk.init", "sentry_sdk.client.Client"})
_SENTRY_RATES = ("traces_sample_rate", "profiles_sample_rate", "traces_sampler",
                 "profiles_sampler", "enable_tracing")


def _is_off(value: Value) -> bool:
    return value.kind is ValueKind.CONST and value.const in (0, 0.0, None, False)


def _sentry_tracing_lines(source: ParsedModule) -> tuple[int, ...]:
    """The lines of an application module's sentry_sdk.init(...) calls that switch on
    performance tracing or profiling."""
    module = source.index
    names = application_names(source)
    if names is None or names.calls.isdisjoint(_SENTRY_CALLS):  # most modules stop here
        return ()
    found = []
    for call in module.calls:
        if call.name not in _SENTRY_CALLS:
            continue
        if any(key in _SENTRY_RATES and not _is_off(value) for key, value in call.keywords):
            found.append(call.line)
    return tuple(found)


_SENTRY_TRACING = module_fact(f"performance.sentry-tracing.{FACTS_VERSION}",
                              _sentry_tracing_lines)


def _sentry_tracing(project: Project) -> list[Evidence]:
    """sentry_sdk.init(...) calls that switch on performance tracing or profiling."""
    return [at_line(project, path, line)
            for path, lines in project.module_fact(_SENTRY_TRACING).items() for line in lines]


@detector("profiling")
def profiling(project: Project) -> Finding:
    """Passes when the project profiles or traces its performance: Flask-DebugToolbar,
    Flask-Profiler, werkzeug's ProfilerMiddleware, Flask-MonitoringDashboard, pyinstrument,
    cProfile/pstats, yappi, line_profiler, memory_profiler, Scalene, OpenTelemetry
    instrumentation, Datadog/New Relic/Elastic/Scout APM, Pyroscope imported anywhere (high);
    sentry_sdk.init with a non-zero traces/profiles sample rate (high); any of these (or py-spy)
    only declared as a dependency (medium). Fails (medium: profiling can happen outside the
    repository) when none is found.
    """
    uses = find_libraries(project, PROFILING_LIBRARIES)
    imported = [u for u in uses if u.imported]
    sentry = _sentry_tracing(project)
    if imported or sentry:
        described = [u.how for u in imported]
        described += [f"Sentry performance tracing ({e.location})" for e in sentry[:1]]
        evidence = [u.evidence for u in imported] + sentry
        return passed(f"profiling with {', '.join(described)}", *evidence[:MAX_EVIDENCE])
    if uses:
        return passed(f"profiler declared but not imported: {', '.join(u.how for u in uses)}",
                      *(u.evidence for u in uses[:MAX_EVIDENCE]), confidence=Confidence.MEDIUM)
    return not_found(project,
                     f"no profiling tool found: looked for {labels(PROFILING_LIBRARIES)} in "
                     "imports and dependencies, and sentry_sdk.init with traces_sample_rate or "
                     "profiles_sample_rate", confidence=Confidence.MEDIUM)


# --- performance.caching -------------------------------------------------------------------------

_CACHE_EXTENSIONS = frozenset({
    "flask_caching.Cache", "flask_cache.Cache", "flask_caching.core.Cache",
})
_CACHE_CLASSES = re.compile(
    r"^(cachelib(\.\w+)*\.\w*Cache|werkzeug\.contrib\.cache\.\w*Cache"
    r"|cachetools\.(\w+\.)?(TTLCache|LRUCache|LFUCache|RRCache|TLRUCache|FIFOCache|cached"
    r"|cachedmethod)|dogpile\.cache\.(region\.)?make_region|aiocache\.\w+"
    r"|requests_cache\.(install_cache|CachedSession))$")
_CACHE_LIBRARIES = ("cachelib", "werkzeug.contrib.cache.", "cachetools.", "dogpile.cache.",
                    "aiocache.", "requests_cache.")
"""How the names `_CACHE_CLASSES` matches begin."""
_MEMOIZERS = frozenset({"functools.lru_cache", "functools.cache", "cachetools.cached",
                        "cachetools.func.ttl_cache", "cachetools.func.lru_cache",
                        "cachetools.cachedmethod", "async_lru.alru_cache"})
_CACHE_DECORATORS = frozenset({"cached", "memoize"})
_CACHE_DECORATOR_ENDS = _CACHE_DECORATORS | {name.rpartition(".")[2] for name in _MEMOIZERS}
"""The last part of each decorator name that may cache."""
_HTTP_CACHING_CALLS = frozenset({"make_conditional", "add_etag", "set_etag", "send_file",
                                 "send_from_directory", "add", "set", "setdefault",
                                 "add_header"})
"""The last part of each call name that may make a response cacheable."""
_CACHE_CALLS = frozenset({"cached", "memoize", "get", "set", "add", "get_many", "set_many",
                          "get_dict", "delete_memoized", "inc"})
_CACHE_CALL_ENDINGS = tuple("." + method for method in _CACHE_CALLS)
_NO_CACHE = re.compile(r"no-store|no-cache|max-age=0\b|^\s*-?[01]\s*$|\b1970\b", re.IGNORECASE)
_CACHE_HEADERS = frozenset({"cache-control", "etag", "expires", "last-modified"})
_CACHE_CONTROL_FIELDS = frozenset({"max_age", "s_maxage", "public", "immutable"})
_REDIS_CLIENTS = frozenset({"redis.Redis", "redis.StrictRedis", "redis.from_url",
                            "redis.Redis.from_url", "flask_redis.FlaskRedis",
                            "redis.asyncio.Redis", "redis.asyncio.from_url"})


def _positive(value: Value) -> bool:
    """A value that switches caching on: a positive number, true, or not a constant."""
    if value.kind is not ValueKind.CONST:
        return True
    if isinstance(value.const, bool):
        return value.const
    if isinstance(value.const, int | float):
        return value.const > 0
    if isinstance(value.const, str):
        return not _NO_CACHE.search(value.const)
    return False


def _http_caching_of(module: ModuleIndex, names: ModuleNames
                     ) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """HTTP caching of responses (Cache-Control/ETag headers that allow caching,
    make_conditional, add_etag), and of static files (send_file max_age,
    SEND_FILE_MAX_AGE_DEFAULT) in one module: (what, line) of each."""
    found: list[tuple[str, int]] = []
    static: list[tuple[str, int]] = []
    for assignment in module.assignments:
        target = assignment.target
        if not ("cache_control" in target or "]" in target or "SEND_FILE" in target) or \
                not _positive(assignment.value):
            continue
        owner, _, field = target.rpartition(".")
        header = re.search(r"headers\[([^\]]+)\]$", target)
        what = ""
        if owner.endswith("cache_control") and field in _CACHE_CONTROL_FIELDS:
            what = f"Cache-Control {field}"
        elif header and header.group(1).lower() in _CACHE_HEADERS:
            what = f"{header.group(1)} header"
        elif target.endswith("[SEND_FILE_MAX_AGE_DEFAULT]") or target == \
                "SEND_FILE_MAX_AGE_DEFAULT":
            static.append(("SEND_FILE_MAX_AGE_DEFAULT", assignment.line))
        if what:
            found.append((what, assignment.line))
    if names.call_ends.isdisjoint(_HTTP_CACHING_CALLS):  # most modules stop here
        return found, static
    for call in module.calls:
        method = call.name.rsplit(".", 1)[-1]
        what = ""
        if method in ("make_conditional", "add_etag", "set_etag"):
            what = method + "()"
        elif method in ("send_file", "send_from_directory"):
            age = call.keyword("max_age")
            if age is not None and _positive(age):
                static.append((f"{method}(max_age=...)", call.line))
        elif method in ("add", "set", "setdefault", "add_header") and ".headers" in \
                "." + call.name and len(call.args) >= 2 and call.args[0].is_constant_text \
                and str(call.args[0].const).lower() in _CACHE_HEADERS \
                and _positive(call.args[1]):
            what = f"{call.args[0].const} header"
        if what:
            found.append((what, call.line))
    return found, static


class _Receiver(NamedTuple):
    """The object a cache method is called on (`cache` in `cache.get(..)`)."""

    last: str
    """Its last name (`cache` for `ext.cache`)."""
    on_self: bool
    """It is an attribute of `self` (`self.cache`)."""
    plain: bool
    """It is a plain name (`cache`), not an attribute."""


def _receiver(name: str, methods: frozenset[str]) -> _Receiver | None:
    """The receiver of the call (or decorator) `name` when it is one of `methods` on an
    object; None otherwise."""
    owner, _, method = name.rpartition(".")
    if method not in methods or not owner:
        return None
    return _Receiver(owner.rpartition(".")[2], owner.startswith("self."), "." not in owner)


class _CacheCall(NamedTuple):
    """A call that may create or use a cache."""

    line: int
    created: str
    """The qualified name of the class called when it may be Flask-Caching's Cache or a project
    subclass of it (see `_may_be_cache_class`), else ''."""
    library: str
    """The name called when it creates a cache of a caching library (cachelib, cachetools,
    ...), else ''."""
    receiver: _Receiver | None
    """For a call of a cache method (`get`, `set`, `memoize`, ...): the object it is called on."""


class _CacheDecorator(NamedTuple):
    """A decorator that may memoize or cache."""

    line: int
    memoizer: str
    """`@functools.lru_cache on name` for a memoizing decorator, else ''."""
    receiver: _Receiver | None
    """For `@x.cached` / `@x.memoize`: `x`."""


class _CachingFacts(NamedTuple):
    """What one application module caches, or may cache (the rest depends on other modules)."""

    calls: tuple[_CacheCall, ...]
    decorators: tuple[_CacheDecorator, ...]
    redis: tuple[int, ...]
    """In a module that creates a redis client: the lines storing expiring keys (setex, set
    with ex=/px=)."""
    assigned: tuple[tuple[str, str], ...]
    """(target, last name of the class) of each assignment of a call that may create a
    Flask-Caching cache."""
    http: tuple[tuple[str, int], ...]
    """(what, line) of each HTTP caching of responses."""
    static: tuple[tuple[str, int], ...]
    """(what, line) of each browser caching of static files."""


def _may_be_cache_class(name: str, classes: frozenset[str]) -> bool:
    """Whether the called `name` may be Flask-Caching's Cache or a project subclass of it: a
    name holding `Cache`, or a class of the module. (A subclass defined in another module and
    named otherwise is not recognised.)"""
    return "Cache" in name.rpartition(".")[2] or name.partition(".")[0] in classes


def _caching_facts(source: ParsedModule) -> _CachingFacts | None:
    """The caching facts of an application module; None for a test module, a module that does
    not parse, and a module with none."""
    module = source.index
    names = application_names(source)
    if names is None:
        return None
    classes = frozenset(c.name for c in module.classes)
    # Whether a call may create a Flask-Caching cache (see `_may_be_cache_class`):
    creates = "Cache" in names.call_text or bool(classes) and any(
        name.partition(".")[0] in classes for name in names.calls)
    libraries = any(prefix in names.call_text for prefix in _CACHE_LIBRARIES)
    receivers = not names.call_ends.isdisjoint(_CACHE_CALLS)
    calls: list[_CacheCall] = []
    if creates or libraries or receivers:
        for call in module.calls:
            name = call.name
            created = qualify(module, name, names.local) \
                if creates and _may_be_cache_class(name, classes) else ""
            library = name if libraries and name.startswith(_CACHE_LIBRARIES) \
                and _CACHE_CLASSES.match(name) else ""
            receiver = _receiver(name, _CACHE_CALLS) \
                if receivers and name.endswith(_CACHE_CALL_ENDINGS) else None
            if created or library or receiver is not None:
                calls.append(_CacheCall(call.line, created, library, receiver))
    decorators: list[_CacheDecorator] = []
    if not names.decorator_ends.isdisjoint(_CACHE_DECORATOR_ENDS):
        for decorator in module.decorators:
            memoizer = f"@{decorator.name} on {decorator.target}" \
                if decorator.name in _MEMOIZERS else ""
            receiver = _receiver(decorator.name, _CACHE_DECORATORS)
            if memoizer or receiver is not None:
                decorators.append(_CacheDecorator(decorator.line, memoizer, receiver))
    assigned = tuple((a.target, a.value.name.rsplit(".", 1)[-1]) for a in module.assignments
                     if a.value.kind is ValueKind.CALL
                     and _may_be_cache_class(a.value.name, classes)) if creates else ()
    http, static = _http_caching_of(module, names)
    redis = _expiring_keys(module, names)
    if not (calls or decorators or redis or assigned or http or static):
        return None
    return _CachingFacts(tuple(calls), tuple(decorators), redis, assigned, tuple(http),
                         tuple(static))


def _expiring_keys(module: ModuleIndex, names: ModuleNames) -> tuple[int, ...]:
    """In a module that creates a redis client: the lines storing expiring keys."""
    if names.calls.isdisjoint(_REDIS_CLIENTS):
        return ()
    found = []
    for call in module.calls:
        expiring = call.keyword("ex") is not None or call.keyword("px") is not None
        if call.name.endswith((".setex", ".psetex")) or (
                call.name.endswith(".set") and expiring):
            found.append(call.line)
    return tuple(found)


_CACHING = module_fact(f"performance.caching.{FACTS_VERSION}", _caching_facts)


def _http_caching(
    project: Project, modules: list[tuple[str, _CachingFacts]],
) -> tuple[list[tuple[str, Evidence]], list[tuple[str, Evidence]]]:
    """HTTP caching of responses, and of static files (see `_http_caching_of`)."""
    found = [(what, at_line(project, path, line))
             for path, facts in modules for what, line in facts.http]
    static = [(what, at_line(project, path, line))
              for path, facts in modules for what, line in facts.static]
    return found, static


class _Caches(NamedTuple):
    """The variables holding a Flask-Caching cache, by last name: assigned to a plain name or an
    attribute of another object (`cache`, `ext.cache`), or to an attribute of `self`."""

    names: frozenset[str]
    on_self: frozenset[str]

    def with_name(self, name: str) -> _Caches:
        return _Caches(self.names | {name}, self.on_self)


def _cache_names(modules: list[tuple[str, _CachingFacts]], classes: frozenset[str]) -> _Caches:
    lasts = {c.rsplit(".", 1)[-1] for c in classes}
    targets = [target for _, facts in modules for target, called in facts.assigned
               if called in lasts]
    return _Caches(frozenset(t.rsplit(".", 1)[-1] for t in targets if not t.startswith("self.")),
                   frozenset(t.rsplit(".", 1)[-1] for t in targets if t.startswith("self.")))


def _on_cache(receiver: _Receiver | None, caches: _Caches) -> bool:
    """`cache.get(..)` on a Flask-Caching cache: the receiver's last name is one a cache is
    assigned to; an attribute of `self` only when a cache is assigned to that attribute of
    `self` (Jinja's own `self.cache` of templates is not Flask-Caching)."""
    if receiver is None:
        return False
    if receiver.on_self:
        return receiver.last in caches.on_self
    return receiver.last in caches.names or receiver.last in caches.on_self and receiver.plain


def _code_caching(project: Project, modules: list[tuple[str, _CachingFacts]]
                  ) -> tuple[list[tuple[str, Evidence]], list[Evidence]]:
    """(caching found in the code, Flask-Caching caches created but never used)."""
    found: list[tuple[str, Evidence]] = []
    extension: list[Evidence] = []
    used: list[Evidence] = []
    classes = subclasses_of(project, _CACHE_EXTENSIONS)
    caches = _cache_names(modules, classes)
    decorated = caches.with_name("cache")
    for path, facts in modules:
        for call in facts.calls:
            if call.created and call.created in classes:
                extension.append(at_line(project, path, call.line))
            elif call.library:
                found.append((call.library, at_line(project, path, call.line)))
            elif _on_cache(call.receiver, caches):
                used.append(at_line(project, path, call.line))
        for decorator in facts.decorators:
            if decorator.memoizer:
                found.append((decorator.memoizer, at_line(project, path, decorator.line)))
            elif _on_cache(decorator.receiver, decorated):
                used.append(at_line(project, path, decorator.line))
        found.extend(("redis with expiring keys", at_line(project, path, line))
                     for line in facts.redis)
    if extension and used:
        return [("Flask-Caching", e) for e in used] + found, []
    return found, extension


@detector("caching")
def caching(project: Project) -> Finding:
    """Passes when views or expensive computations are cached: Flask-Caching (or a subclass)
    used through @cache.cached / @cache.memoize or cache.get / cache.set; cachelib,
    cachetools, dogpile.cache, aiocache or requests-cache caches; functools.lru_cache /
    functools.cache memoization; a redis client storing expiring keys (setex, set with
    ex=/px=); HTTP caching of responses (Cache-Control max-age or public, ETag / Expires /
    Last-Modified headers, make_conditional, add_etag). Headers that forbid caching
    (no-store, no-cache, max-age=0) do not count.

    Fails (medium) when Flask-Caching is initialised but nothing is cached with it, or when
    only static files get browser caching (send_file max_age, SEND_FILE_MAX_AGE_DEFAULT);
    fails when nothing is found (a caching library only declared is named). Test files are
    not considered.
    """
    modules = modules_with(project, _CACHING)
    code, extension = _code_caching(project, modules)
    http, static = _http_caching(project, modules)
    found = code + http
    if found:
        kinds = ", ".join(dict.fromkeys(what for what, _ in found))
        return passed(f"caching: {kinds} ({found[0][1].location})",
                      *_unique(e for _, e in found))
    looked = ("looked for Flask-Caching (@cache.cached, @cache.memoize, cache.get/set), "
              "cachelib, cachetools, functools.lru_cache/cache, redis keys with expiry, and "
              "HTTP caching headers (Cache-Control, ETag, make_conditional)")
    if extension or static:
        notes = []
        if extension:
            notes.append(f"Flask-Caching is initialised ({extension[0].location}) but nothing "
                         "is cached with it")
        if static:
            kinds = ", ".join(dict.fromkeys(what for what, _ in static))
            notes.append(f"only static files get browser caching ({kinds}, "
                         f"{static[0][1].location})")
        return not_found(project,
                         f"no view or computation is cached: {'; '.join(notes)}; {looked}",
                         *_unique([*extension, *(e for _, e in static)]),
                         confidence=Confidence.MEDIUM)
    declared = project.dependency("flask-caching", "cachelib", "cachetools", "dogpile-cache",
                                  "aiocache", "requests-cache")
    if declared is not None:
        return not_found(project,
                         f"no caching found ({declared.name} is declared at {declared.path}:"
                         f"{declared.line} but not used): {looked}",
                         at_line(project, declared.path, declared.line),
                         confidence=Confidence.MEDIUM)
    return not_found(project,
                     f"no caching found: {looked}")


def _unique(evidence: Iterable[Evidence]) -> list[Evidence]:
    return list(dict.fromkeys(evidence))[:MAX_EVIDENCE]


# --- performance.rate-limiting -------------------------------------------------------------------

RATE_LIMIT_LIBRARIES = (
    Library("Flask-Limiter", ("flask_limiter",), ("flask-limiter",)),
    Library("limits", ("limits",), ("limits",)),
    Library("Flask-RateLimiter", ("flask_ratelimiter", "flask_rate_limiter", "flask_ratelimit",
                                  "flask_rate_limit"),
            ("flask-ratelimiter", "flask-rate-limiter", "flask-ratelimit")),
)
_LIMITERS = frozenset({"flask_limiter.Limiter", "flask_limiter.extension.Limiter"})
_LIMIT_METHODS = frozenset({"limit", "shared_limit"})
_LIMIT_ENDINGS = tuple("." + method for method in _LIMIT_METHODS)
_LIMIT_SETTINGS = frozenset({"default_limits", "application_limits", "global_limits"})
"""`global_limits` is the name `default_limits` had before Flask-Limiter 1.0."""
_LIMIT_CONFIG = re.compile(r"(^|\[)RATELIMIT_(DEFAULT|APPLICATION)\]?$")
_PROXY_FILES = re.compile(r"(^|/)([^/]*nginx[^/]*|[^/]*\.conf|[^/]*traefik[^/]*\.(ya?ml|toml)"
                          r"|[^/]*haproxy[^/]*\.cfg|Caddyfile|(docker-)?compose[^/]*\.ya?ml)$"
                          r"|(^|/)nginx/", re.IGNORECASE)
_PROXY_LIMIT = re.compile(r"^\s*(-\s*)?[\"']?(limit_req(_zone)?\s"
                          r"|[\w.\"-]*\bratelimit\.(average|burst)\b|rateLimit\s*:|rate_limit\s|http-request\s+deny\b.*\bhttp_req_rate\b"
                          r"|stick-table\b.*\bhttp_req_rate\b)", re.IGNORECASE)


class _Limit(NamedTuple):
    """A call or decorator that creates a Flask-Limiter Limiter or may apply a rate limit."""

    line: int
    creates: bool
    """A Limiter is created here."""
    applies: bool
    """A limit is applied here: by a Limiter created with `default_limits` or
    `application_limits` that are not constants, or by `x.limit(..)` where `x` says `limit`."""
    receiver: str
    """For `x.limit(..)` / `x.shared_limit(..)`: the last name of `x`; the call applies a limit
    when `x` holds a Limiter."""


def _limit(line: int, name: str) -> _Limit | None:
    """`limiter.limit`, `limiter.shared_limit`, or `.limit` on another object (`query.limit(10)`
    applies no rate limit unless a Limiter is assigned to `query`); None for other names."""
    if not name.endswith(_LIMIT_ENDINGS):  # most names stop here
        return None
    owner, _, method = name.rpartition(".")
    if method not in _LIMIT_METHODS or not owner:
        return None
    last = owner.rsplit(".", 1)[-1]
    return _Limit(line, False, "limit" in last.lower(), last)


def _is_rate_limit_name(name: str) -> bool:
    """A function named for rate limiting (`ratelimit`, `is_rate_limited`, `throttle`)."""
    lower = name.lower()
    return "ratelimit" in lower.replace("_", "") or "throttle" in lower


class _RateLimitFacts(NamedTuple):
    """What one application module does to limit request rates."""

    limiters: tuple[str, ...]
    """The last names of the variables assigned a Limiter (`limiter`, `self.limiter`)."""
    calls: tuple[_Limit, ...]
    decorators: tuple[_Limit, ...]
    config: tuple[int, ...]
    """The lines setting RATELIMIT_DEFAULT or RATELIMIT_APPLICATION."""
    functions: tuple[str, ...]
    """The names of the functions named for rate limiting (`_is_rate_limit_name`)."""
    own_decorators: tuple[tuple[str, int], ...]
    """(last name, line) of each decorator named for rate limiting."""
    own_calls: tuple[tuple[str, str, int], ...]
    """(last name, last name of the calling function, line) of each call, inside a function,
    of a name for rate limiting."""


def _rate_limit_facts(source: ParsedModule) -> _RateLimitFacts | None:
    """The rate-limit facts of an application module; None for a test module, a module that
    does not parse, and a module with none."""
    module = source.index
    names = application_names(source)
    if names is None:
        return None
    limiters: tuple[str, ...] = ()
    calls: list[_Limit] = []
    creates = not names.calls.isdisjoint(_LIMITERS)
    if creates:
        limiters = tuple(a.target.rsplit(".", 1)[-1] for a in module.assignments
                         if a.value.kind is ValueKind.CALL and a.value.name in _LIMITERS)
    if creates or not names.call_ends.isdisjoint(_LIMIT_METHODS):
        for call in module.calls:
            if call.name in _LIMITERS:
                settings = any(k in _LIMIT_SETTINGS and v.kind is not ValueKind.CONST
                               for k, v in call.keywords)
                calls.append(_Limit(call.line, True, settings, ""))
            elif call.args and (found := _limit(call.line, call.name)) is not None:
                calls.append(found)
    decorators = tuple(found for d in module.decorators
                       if (found := _limit(d.line, d.name)) is not None) \
        if not names.decorator_ends.isdisjoint(_LIMIT_METHODS) else ()
    config = tuple(a.line for a in module.assignments
                   if "RATELIMIT_" in a.target and _LIMIT_CONFIG.search(a.target))
    functions = tuple(f.name for f in module.functions if _is_rate_limit_name(f.name)) \
        if _may_name_rate_limit([f.name for f in module.functions]) else ()
    own_decorators = tuple((d.name.rsplit(".", 1)[-1], d.line) for d in module.decorators
                           if _is_rate_limit_name(d.name.rsplit(".", 1)[-1])) \
        if _may_name_rate_limit(names.decorator_ends) else ()
    own_calls = tuple((c.name.rsplit(".", 1)[-1], c.function.rsplit(".", 1)[-1], c.line)
                      for c in module.calls if c.function is not None
                      and _is_rate_limit_name(c.name.rsplit(".", 1)[-1])) \
        if _may_name_rate_limit(names.call_ends) else ()
    if not (limiters or calls or decorators or config or functions or own_decorators
            or own_calls):
        return None
    return _RateLimitFacts(limiters, tuple(calls), decorators, config, functions,
                           own_decorators, own_calls)


def _may_name_rate_limit(names: Iterable[str]) -> bool:
    """Whether one of `names` may be named for rate limiting (`_is_rate_limit_name`): one test
    over all of them."""
    text = "\n".join(names).lower()
    return "throttle" in text or "ratelimit" in text.replace("_", "")
_RATE_LIMITS = module_fact(f"performance.rate-limits.2.{FACTS_VERSION}", _rate_limit_facts)


def _limiter_code(project: Project, modules: list[tuple[str, _RateLimitFacts]]
                  ) -> tuple[list[Evidence], list[Evidence]]:
    """(limits applied, Limiter created) in the application's code."""
    applied: list[Evidence] = []
    created: list[Evidence] = []
    limiters = frozenset(name for _, facts in modules for name in facts.limiters)
    for path, facts in modules:
        for call in facts.calls:
            if call.creates:
                created.append(at_line(project, path, call.line))
            if call.applies or not call.creates and call.receiver in limiters:
                applied.append(at_line(project, path, call.line))
        applied.extend(at_line(project, path, d.line) for d in facts.decorators
                       if d.applies or d.receiver in limiters)
        applied.extend(at_line(project, path, line) for line in facts.config)
    return applied, created


def _own_rate_limits(project: Project, modules: list[tuple[str, _RateLimitFacts]]
                     ) -> list[Evidence]:
    """The project's own rate limiting: a function named for it (`ratelimit`,
    `is_rate_limited`, `throttle`) defined in the application and used as a decorator or
    called there."""
    names = {name for _, facts in modules for name in facts.functions}
    found: list[Evidence] = []
    for path, facts in modules:
        found.extend(at_line(project, path, line) for name, line in facts.own_decorators
                     if name in names)
        found.extend(at_line(project, path, line) for name, caller, line in facts.own_calls
                     if name in names and caller not in names)
    return sorted(found, key=lambda e: (e.path, e.line or 0))


def _proxy_limits(project: Project) -> list[Evidence]:
    """Rate-limit directives in reverse-proxy configuration kept in the repository."""
    found = []
    for path in project.files:
        if in_test_dir(path) or path.endswith(".py") or not _PROXY_FILES.search(path):
            continue
        text = project.text(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.lstrip().startswith("#") and _PROXY_LIMIT.search(line):
                found.append(at_line(project, path, number))
                break
    return found


@detector("rate_limiting")
def rate_limiting(project: Project) -> Finding:
    """Passes when endpoints are rate limited: Flask-Limiter's Limiter with limits applied
    (@limiter.limit / shared_limit, default_limits or application_limits, RATELIMIT_DEFAULT
    in the configuration) (high), or the `limits` library or another Flask rate-limit
    extension imported (high); the application's own rate-limit code (a function named
    ratelimit / rate_limit / throttle used as a decorator or called), or a rate limit in a
    reverse-proxy configuration kept in the repository (nginx limit_req, Traefik rateLimit,
    HAProxy http_req_rate, Caddy rate_limit) (medium). Fails (medium: limits may be enforced
    by a gateway outside the repository, or set by RATELIMIT_DEFAULT in the environment when a
    Limiter is created without limits in the code) when none is found. Test files are not
    considered.
    """
    modules = modules_with(project, _RATE_LIMITS)
    applied, created = _limiter_code(project, modules)
    if created and applied:
        return passed(f"Flask-Limiter limits requests ({applied[0].location})",
                      *list(dict.fromkeys(created[:1] + applied))[:MAX_EVIDENCE])
    uses = [u for u in find_libraries(project, RATE_LIMIT_LIBRARIES, include_tests=False)
            if u.imported and u.library.label != "Flask-Limiter"]
    if uses:
        return passed(f"rate limiting with {', '.join(u.how for u in uses)}",
                      *(u.evidence for u in uses[:MAX_EVIDENCE]))
    own = _own_rate_limits(project, modules)
    if own:
        return passed(f"the application limits request rates with its own code "
                      f"({own[0].location})", *own[:MAX_EVIDENCE], confidence=Confidence.MEDIUM)
    proxy = _proxy_limits(project)
    if proxy:
        return passed(f"a reverse proxy configuration limits the request rate "
                      f"({proxy[0].location})", *proxy[:MAX_EVIDENCE],
                      confidence=Confidence.MEDIUM)
    looked = (f"looked for {labels(RATE_LIMIT_LIBRARIES)} (Limiter, @limiter.limit, "
              "default_limits), rate-limit functions of the application (ratelimit, throttle) "
              "and limit_req / rateLimit in nginx, Traefik or HAProxy configuration; if a "
              "gateway outside this repository limits requests, answer the item by hand")
    if created:
        return not_found(project,
                         f"Flask-Limiter is created ({created[0].location}) but no limit is "
                         "applied in the code (no @limiter.limit, default_limits or "
                         "RATELIMIT_DEFAULT); if "
                         "RATELIMIT_DEFAULT is set in the deployment's environment, answer the "
                         "item by hand", *created[:MAX_EVIDENCE], confidence=Confidence.MEDIUM)
    declared = project.dependency("flask-limiter", "limits")
    if declared is not None:
        return not_found(project,
                         f"no rate limiting found ({declared.name} is declared at {declared.path}:"
                         f"{declared.line} but not used): {looked}",
                         at_line(project, declared.path, declared.line),
                         confidence=Confidence.MEDIUM)
    return not_found(project,
                     f"no rate limiting found: {looked}", confidence=Confidence.MEDIUM)
