"""Detectors: performance and optimization (profiling, caching, rate limiting).

Code signals come from the AST index of the application's modules (test files are left out for
caching and rate limiting); libraries only declared as dependencies count for less than code
that uses them. Reverse-proxy configuration files are read as text, line by line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from checklist_app.detectors.evidence import at_line
from checklist_app.detectors.organization import (
    Library,
    Names,
    app_modules,
    find_libraries,
    in_test_dir,
    labels,
    local_names,
    not_found,
    subclasses_of,
)
from checklist_app.detectors.registry import detector
from checklist_app.findings import Confidence, Evidence, Finding, passed
from checklist_app.project import Project
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
_SENTRY_RATES = ("traces_sample_rate", "profiles_sample_rate", "traces_sampler",
                 "profiles_sampler", "enable_tracing")


def _sentry_tracing(project: Project) -> list[Evidence]:
    """sentry_sdk.init(...) calls that switch on performance tracing or profiling."""
    found = []
    for module in app_modules(project):
        for call in module.calls:
            if call.name not in ("sentry_sdk.init", "sentry_sdk.client.Client"):
                continue
            for key, value in call.keywords:
                if key in _SENTRY_RATES and not _is_off(value):
                    found.append(at_line(project, module.path, call.line))
                    break
    return found


def _is_off(value: Value) -> bool:
    return value.kind is ValueKind.CONST and value.const in (0, 0.0, None, False)


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
_MEMOIZERS = frozenset({"functools.lru_cache", "functools.cache", "cachetools.cached",
                        "cachetools.func.ttl_cache", "cachetools.func.lru_cache",
                        "cachetools.cachedmethod", "async_lru.alru_cache"})
_CACHE_DECORATORS = frozenset({"cached", "memoize"})
_CACHE_CALLS = frozenset({"cached", "memoize", "get", "set", "add", "get_many", "set_many",
                          "get_dict", "delete_memoized", "inc"})
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


def _http_caching(
    project: Project,
) -> tuple[list[tuple[str, Evidence]], list[tuple[str, Evidence]]]:
    """HTTP caching of responses (Cache-Control/ETag headers that allow caching,
    make_conditional, add_etag), and of static files (send_file max_age,
    SEND_FILE_MAX_AGE_DEFAULT)."""
    found: list[tuple[str, Evidence]] = []
    static: list[tuple[str, Evidence]] = []
    for module in app_modules(project):
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
                static.append(("SEND_FILE_MAX_AGE_DEFAULT",
                               at_line(project, module.path, assignment.line)))
            if what:
                found.append((what, at_line(project, module.path, assignment.line)))
        for call in module.calls:
            method = call.name.rsplit(".", 1)[-1]
            what = ""
            if method in ("make_conditional", "add_etag", "set_etag"):
                what = method + "()"
            elif method in ("send_file", "send_from_directory"):
                age = call.keyword("max_age")
                if age is not None and _positive(age):
                    static.append((f"{method}(max_age=...)",
                                   at_line(project, module.path, call.line)))
            elif method in ("add", "set", "setdefault", "add_header") and ".headers" in \
                    "." + call.name and len(call.args) >= 2 and call.args[0].is_constant_text \
                    and str(call.args[0].const).lower() in _CACHE_HEADERS \
                    and _positive(call.args[1]):
                what = f"{call.args[0].const} header"
            if what:
                found.append((what, at_line(project, module.path, call.line)))
    return found, static


@dataclass(frozen=True, slots=True)
class _Caches:
    """The variables holding a Flask-Caching cache, by last name: assigned to a plain name or an
    attribute of another object (`cache`, `ext.cache`), or to an attribute of `self`."""

    names: frozenset[str]
    on_self: frozenset[str]

    def with_name(self, name: str) -> _Caches:
        return _Caches(self.names | {name}, self.on_self)


def _cache_names(project: Project, classes: frozenset[str]) -> _Caches:
    lasts = {c.rsplit(".", 1)[-1] for c in classes}
    targets = [a.target for m in app_modules(project) for a in m.assignments
               if a.value.kind is ValueKind.CALL and a.value.name.rsplit(".", 1)[-1] in lasts]
    return _Caches(frozenset(t.rsplit(".", 1)[-1] for t in targets if not t.startswith("self.")),
                   frozenset(t.rsplit(".", 1)[-1] for t in targets if t.startswith("self.")))


def _on_cache(name: str, methods: frozenset[str], caches: _Caches) -> bool:
    """`cache.get(..)` on a Flask-Caching cache: the receiver's last name is one a cache is
    assigned to; an attribute of `self` only when a cache is assigned to that attribute of
    `self` (Jinja's own `self.cache` of templates is not Flask-Caching)."""
    owner, _, method = name.rpartition(".")
    if method not in methods or not owner:
        return False
    last = owner.rpartition(".")[2]
    if owner.startswith("self."):
        return last in caches.on_self
    return last in caches.names or last in caches.on_self and "." not in owner


def _code_caching(project: Project) -> tuple[list[tuple[str, Evidence]], list[Evidence]]:
    """(caching found in the code, Flask-Caching caches created but never used)."""
    found: list[tuple[str, Evidence]] = []
    extension: list[Evidence] = []
    used: list[Evidence] = []
    classes = subclasses_of(project, _CACHE_EXTENSIONS)
    caches = _cache_names(project, classes)
    decorated = caches.with_name("cache")
    extensions = Names(classes)
    for module in app_modules(project):
        local = local_names(module)
        redis_client = False
        for call in module.calls:
            if extensions.has(module, call.name, local):
                extension.append(at_line(project, module.path, call.line))
            elif _CACHE_CLASSES.match(call.name):
                found.append((call.name, at_line(project, module.path, call.line)))
            elif call.name in _REDIS_CLIENTS:
                redis_client = True
            elif _on_cache(call.name, _CACHE_CALLS, caches):
                used.append(at_line(project, module.path, call.line))
        for decorator in module.decorators:
            if decorator.name in _MEMOIZERS:
                found.append((f"@{decorator.name} on {decorator.target}",
                              at_line(project, module.path, decorator.line)))
            elif _on_cache(decorator.name, _CACHE_DECORATORS, decorated):
                used.append(at_line(project, module.path, decorator.line))
        if redis_client:
            for call in module.calls:
                expiring = call.keyword("ex") is not None or call.keyword("px") is not None
                if call.name.endswith((".setex", ".psetex")) or (
                        call.name.endswith(".set") and expiring):
                    found.append(("redis with expiring keys",
                                  at_line(project, module.path, call.line)))
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
    code, extension = _code_caching(project)
    http, static = _http_caching(project)
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
_LIMIT_SETTINGS = frozenset({"default_limits", "application_limits"})
_LIMIT_CONFIG = re.compile(r"(^|\[)RATELIMIT_(DEFAULT|APPLICATION)\]?$")
_PROXY_FILES = re.compile(r"(^|/)([^/]*nginx[^/]*|[^/]*\.conf|[^/]*traefik[^/]*\.(ya?ml|toml)"
                          r"|[^/]*haproxy[^/]*\.cfg|Caddyfile|(docker-)?compose[^/]*\.ya?ml)$"
                          r"|(^|/)nginx/", re.IGNORECASE)
_PROXY_LIMIT = re.compile(r"^\s*(-\s*)?[\"']?(limit_req(_zone)?\s"
                          r"|[\w.\"-]*\bratelimit\.(average|burst)\b|rateLimit\s*:|rate_limit\s|http-request\s+deny\b.*\bhttp_req_rate\b"
                          r"|stick-table\b.*\bhttp_req_rate\b)", re.IGNORECASE)


def _limiter_names(project: Project) -> frozenset[str]:
    """Names of the variables that hold a Limiter (`limiter`, `self.limiter`: last part)."""
    return frozenset(a.target.rsplit(".", 1)[-1] for m in app_modules(project)
                     for a in m.assignments
                     if a.value.kind is ValueKind.CALL and a.value.name in _LIMITERS)


def _is_limit(name: str, limiters: frozenset[str]) -> bool:
    """`limiter.limit`, `limiter.shared_limit`, or `.limit` on a variable holding a Limiter
    (not `query.limit(10)`)."""
    owner, _, method = name.rpartition(".")
    last = owner.rsplit(".", 1)[-1]
    return method in _LIMIT_METHODS and bool(owner) and ("limit" in last.lower()
                                                          or last in limiters)


def _limiter_code(project: Project) -> tuple[list[Evidence], list[Evidence]]:
    """(limits applied, Limiter created) in the application's code."""
    applied: list[Evidence] = []
    created: list[Evidence] = []
    limiters = _limiter_names(project)
    for module in app_modules(project):
        for call in module.calls:
            if call.name in _LIMITERS:
                created.append(at_line(project, module.path, call.line))
                if any(k in _LIMIT_SETTINGS and v.kind is not ValueKind.CONST
                       for k, v in call.keywords):
                    applied.append(at_line(project, module.path, call.line))
            elif call.args and _is_limit(call.name, limiters):
                applied.append(at_line(project, module.path, call.line))
        for decorator in module.decorators:
            if _is_limit(decorator.name, limiters):
                applied.append(at_line(project, module.path, decorator.line))
        for assignment in module.assignments:
            if _LIMIT_CONFIG.search(assignment.target):
                applied.append(at_line(project, module.path, assignment.line))
    return applied, created


def _own_rate_limits(project: Project) -> list[Evidence]:
    """The project's own rate limiting: a function named for it (`ratelimit`,
    `is_rate_limited`, `throttle`) defined in the application and used as a decorator or
    called there."""
    names = {f.name for m in app_modules(project) for f in m.functions
             if "ratelimit" in f.name.lower().replace("_", "") or "throttle" in f.name.lower()}
    found = []
    for module in app_modules(project):
        for decorator in module.decorators:
            if decorator.name.rsplit(".", 1)[-1] in names:
                found.append(at_line(project, module.path, decorator.line))
        for call in module.calls:
            if call.name.rsplit(".", 1)[-1] in names and call.function is not None \
                    and call.function.rsplit(".", 1)[-1] not in names:
                found.append(at_line(project, module.path, call.line))
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
    applied, created = _limiter_code(project)
    if created and applied:
        return passed(f"Flask-Limiter limits requests ({applied[0].location})",
                      *list(dict.fromkeys(created[:1] + applied))[:MAX_EVIDENCE])
    uses = [u for u in find_libraries(project, RATE_LIMIT_LIBRARIES, include_tests=False)
            if u.imported and u.library.label != "Flask-Limiter"]
    if uses:
        return passed(f"rate limiting with {', '.join(u.how for u in uses)}",
                      *(u.evidence for u in uses[:MAX_EVIDENCE]))
    own = _own_rate_limits(project)
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
