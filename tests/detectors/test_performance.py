"""Performance detectors on small sample projects: outcome, confidence and exact evidence."""

from __future__ import annotations

import pytest

from checklist_app.findings import Confidence, Outcome
from tests.detectors.expect import MakeRepo, RunDetector, check, src

PASS, FAIL = Outcome.PASS, Outcome.FAIL
HIGH, MEDIUM = Confidence.HIGH, Confidence.MEDIUM


# --- performance.profiling -----------------------------------------------------------------------

PROFILING_CASES = [
    pytest.param({"app/extensions.py": src("""
        from flask_sqlalchemy import SQLAlchemy
        from flask_debugtoolbar import DebugToolbarExtension

        toolbar = DebugToolbarExtension()
        """)}, PASS, HIGH, ["app/extensions.py:2"], id="debug-toolbar"),
    pytest.param({"profile.py": src("""
        from werkzeug.middleware.profiler import ProfilerMiddleware
        from app import create_app

        app = create_app()
        app.wsgi_app = ProfilerMiddleware(app.wsgi_app)
        """)}, PASS, HIGH, ["profile.py:1"], id="profiler-middleware"),
    pytest.param({"app/__init__.py": src("""
        import sentry_sdk

        sentry_sdk.init(dsn="https://key@example.com/1", traces_sample_rate=0.2)
        """)}, PASS, HIGH, ["app/__init__.py:3"], id="sentry-tracing"),
    pytest.param({"app/__init__.py": src("""
        import sentry_sdk

        sentry_sdk.init(dsn="https://key@example.com/1", traces_sample_rate=0)
        """)}, FAIL, MEDIUM, [], id="sentry-without-tracing"),
    pytest.param({"requirements-dev.txt": "pytest==8.0.0\npy-spy==0.3.14\n"}, PASS, MEDIUM,
                 ["requirements-dev.txt:2"], id="py-spy-declared"),
    pytest.param({"scripts/bench.py": "import cProfile\ncProfile.run('main()')\n"}, PASS, HIGH,
                 ["scripts/bench.py:1"], id="cprofile"),
    pytest.param({"app.py": "from flask import Flask\napp = Flask(__name__)\n"}, FAIL, MEDIUM,
                 [], id="nothing"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), PROFILING_CASES)
def test_profiling(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                   outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("profiling", repo.root), outcome, confidence, evidence)


# --- performance.caching -------------------------------------------------------------------------

EXTENSIONS = src("""
    from flask_caching import Cache

    cache = Cache()
    """)

CACHING_CASES = [
    pytest.param({"app/extensions.py": EXTENSIONS, "app/views.py": src("""
        from flask import Blueprint
        from app.extensions import cache

        bp = Blueprint("main", __name__)

        @bp.route("/stats")
        @cache.cached(timeout=300)
        def stats():
            return "stats"
        """)}, PASS, HIGH, ["app/views.py:7"], id="flask-caching-view"),
    pytest.param({"app/extensions.py": EXTENSIONS}, FAIL, MEDIUM, ["app/extensions.py:3"],
                 id="flask-caching-unused"),
    pytest.param({"app/cache.py": src("""
        from flask_caching import Cache

        class AppCache(Cache):
            pass

        cache = AppCache()

        def scores():
            return cache.get("scores")
        """)}, PASS, HIGH, ["app/cache.py:9"], id="cache-subclass-used-directly"),
    pytest.param({"app/caches.py": src("""
        from flask_caching import Cache

        class AppCache(Cache):
            pass
        """), "app/extensions.py": src("""
        from app.caches import AppCache

        store = AppCache()
        """), "app/views.py": src("""
        from app.extensions import store

        @store.memoize(60)
        def scores():
            return 1
        """)}, PASS, HIGH, ["app/views.py:3"], id="cache-subclass-created-in-another-module"),
    pytest.param({"app/caches.py": src("""
        from flask_caching import Cache

        class AppCache(Cache):
            pass
        """), "app/extensions.py": src("""
        from app.caches import AppCache

        store = AppCache()
        """)}, FAIL, MEDIUM, ["app/extensions.py:3"], id="cache-subclass-created-not-used"),
    pytest.param({"app/extensions.py": EXTENSIONS, "app/jinja.py": src("""
        import jinja2

        class ThemeEnvironment(jinja2.Environment):
            def load(self, key):
                return self.cache.get(key)
        """)}, FAIL, MEDIUM, ["app/extensions.py:3"],
        id="another-objects-self-cache-is-not-flask-caching"),
    pytest.param({"app/extensions.py": EXTENSIONS, "app/jinja.py": src("""
        import jinja2

        class ThemeEnvironment(jinja2.Environment):
            def load(self, key):
                return self.cache.get(key)
        """), "app/api.py": src("""
        from app.extensions import cache

        def scores():
            return cache.get("scores")
        """)}, PASS, HIGH, ["app/api.py:4"], id="flask-caching-cited-not-jinjas-cache"),
    pytest.param({"app/service.py": src("""
        from flask_caching import Cache

        class Service:
            def __init__(self, app):
                self.cache = Cache(app)

            def scores(self):
                return self.cache.get("scores")
        """)}, PASS, HIGH, ["app/service.py:8"], id="flask-caching-on-self"),
    pytest.param({"app/text.py": src("""
        import functools

        @functools.lru_cache(maxsize=256)
        def render(markdown):
            return markdown
        """)}, PASS, HIGH, ["app/text.py:3"], id="lru-cache"),
    pytest.param({"app/views.py": src("""
        def add_headers(response):
            response.headers["Cache-Control"] = "public, max-age=600"
            return response
        """)}, PASS, HIGH, ["app/views.py:2"], id="cache-control-header"),
    pytest.param({"app/views.py": src("""
        def add_headers(response):
            response.headers["Cache-Control"] = "no-store"
            response.cache_control.max_age = 0
            return response
        """)}, FAIL, HIGH, [], id="headers-that-forbid-caching"),
    pytest.param({"app/views.py": src("""
        def download(path):
            response = send_file(path)
            return response.make_conditional(request)
        """)}, PASS, HIGH, ["app/views.py:3"], id="conditional-response"),
    pytest.param({"app/config.py": "class Config:\n    SEND_FILE_MAX_AGE_DEFAULT = 3600\n"},
                 FAIL, MEDIUM, ["app/config.py:2"], id="only-static-files"),
    pytest.param({"app/store.py": src("""
        import redis

        client = redis.Redis()

        def remember(key, value):
            client.setex(key, 60, value)
        """)}, PASS, HIGH, ["app/store.py:6"], id="redis-expiring-keys"),
    pytest.param({"app/models.py": src("""
        class Report:
            @property.cached
            def total(self):
                return 1
        """)}, FAIL, HIGH, [], id="cached-attribute-without-a-cache"),
    pytest.param({"requirements.txt": "flask==3.0.0\nflask-caching==2.1.0\n"}, FAIL, MEDIUM,
                 ["requirements.txt:2"], id="declared-not-used"),
    pytest.param({"tests/test_cache.py": src("""
        import functools

        @functools.cache
        def helper():
            return 1
        """)}, FAIL, HIGH, [], id="caching-only-in-tests"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), CACHING_CASES)
def test_caching(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                 outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("caching", repo.root), outcome, confidence, evidence)


# --- performance.rate-limiting -------------------------------------------------------------------

LIMITER = src("""
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    limiter = Limiter(get_remote_address)
    """)

RATE_LIMIT_CASES = [
    pytest.param({"app/extensions.py": LIMITER, "app/auth.py": src("""
        from app.extensions import limiter

        @limiter.limit("5 per minute")
        def login():
            return "ok"
        """)}, PASS, HIGH, ["app/extensions.py:4", "app/auth.py:3"], id="limit-decorator"),
    pytest.param({"app/extensions.py": src("""
        from flask_limiter import Limiter
        from flask_limiter.util import get_remote_address

        limiter = Limiter(get_remote_address, default_limits=["200 per day"])
        """)}, PASS, HIGH, ["app/extensions.py:4"], id="default-limits"),
    pytest.param({"app/factory.py": src("""
        from flask_limiter import Limiter

        def create_app(app, settings):
            Limiter(app, global_limits=[settings.RATE_LIMIT])
            return app
        """)}, PASS, HIGH, ["app/factory.py:4"], id="global-limits-of-flask-limiter-0"),
    pytest.param({"app/extensions.py": LIMITER, "app/models.py": src("""
        def latest(query):
            return query.limit(10)
        """)}, FAIL, MEDIUM, ["app/extensions.py:4"], id="limiter-without-limits"),
    pytest.param({"app/decorators.py": src("""
        import functools

        def ratelimit(limit=10, interval=60):
            def decorator(view):
                @functools.wraps(view)
                def wrapper(*args, **kwargs):
                    return view(*args, **kwargs)
                return wrapper
            return decorator
        """), "app/auth.py": src("""
        from app.decorators import ratelimit

        @ratelimit(limit=5, interval=60)
        def login():
            return "ok"
        """)}, PASS, MEDIUM, ["app/auth.py:3"], id="own-rate-limit-decorator"),
    pytest.param({"deploy/nginx/site.conf": src("""
        limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;
        server {
            location / { limit_req zone=one burst=5; }
        }
        """)}, PASS, MEDIUM, ["deploy/nginx/site.conf:1"], id="nginx-limit-req"),
    pytest.param({"nginx.conf": "# limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\n"},
                 FAIL, MEDIUM, [], id="commented-nginx-directive"),
    pytest.param({"docker-compose.yml": src("""
        services:
          web:
            labels:
              - "traefik.http.middlewares.web-limit.ratelimit.average=100"
        """)}, PASS, MEDIUM, ["docker-compose.yml:4"], id="traefik-label"),
    pytest.param({"app.py": "from flask import Flask\napp = Flask(__name__)\n"}, FAIL, MEDIUM,
                 [], id="nothing"),
]


@pytest.mark.parametrize(("files", "outcome", "confidence", "evidence"), RATE_LIMIT_CASES)
def test_rate_limiting(make_repo: MakeRepo, run_detector: RunDetector, files: dict[str, str],
                       outcome: Outcome, confidence: Confidence, evidence: list[str]) -> None:
    repo = make_repo(files, git=False)
    check(run_detector("rate_limiting", repo.root), outcome, confidence, evidence)
