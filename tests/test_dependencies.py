from __future__ import annotations

import pytest

from checklist_app.project.dependencies import parse_dependency_file


def names(path: str, text: str) -> list[tuple[str, str, int, bool, bool]]:
    return [(d.name, d.spec, d.line, d.dev, d.pinned) for d in parse_dependency_file(path, text)]


def test_requirements_txt() -> None:
    text = "# comment\nFlask==3.0.0\nFlask_SQLAlchemy>=3.1  # orm\n-r base.txt\n" \
           "gunicorn\nrequests[socks]==2.31.0 ; python_version>'3.8'\n"
    assert names("requirements.txt", text) == [
        ("flask", "==3.0.0", 2, False, True),
        ("flask-sqlalchemy", ">=3.1", 3, False, False),
        ("gunicorn", "", 5, False, False),
        ("requests", "==2.31.0 ; python_version>'3.8'", 6, False, True),
    ]


def test_dev_requirements_are_marked_dev() -> None:
    assert names("requirements/dev.txt", "pytest==8\n") == [("pytest", "==8", 1, True, True)]
    assert names("requirements-test.txt", "pytest\n")[0][3] is True


def test_pyproject_pep621_poetry_pdm_and_groups() -> None:
    text = """
[project]
dependencies = ["flask>=3", "Flask-WTF==1.2.1"]
[project.optional-dependencies]
test = ["pytest"]
[dependency-groups]
lint = ["ruff"]
[tool.poetry.dependencies]
python = "^3.11"
flask-limiter = "3.5.0"
redis = {version = "^5.0", extras = ["hiredis"]}
[tool.poetry.group.dev.dependencies]
faker = "*"
[tool.pdm.dev-dependencies]
e2e = ["playwright"]
"""
    found = names("pyproject.toml", text)
    assert ("flask", ">=3", 3, False, False) in found
    assert ("flask-wtf", "==1.2.1", 3, False, True) in found
    assert ("pytest", "", 5, True, False) in found
    assert ("ruff", "", 7, True, False) in found
    assert ("flask-limiter", "==3.5.0", 10, False, True) in found
    assert ("redis", "^5.0", 11, False, False) in found
    assert ("faker", "*", 13, True, False) in found
    assert ("playwright", "", 15, True, False) in found
    assert not any(name == "python" for name, *_ in found)


def test_setup_cfg_and_setup_py_and_pipfile() -> None:
    cfg = "[options]\ninstall_requires =\n    flask==3.0\n    click\n"
    assert names("setup.cfg", cfg) == [("flask", "==3.0", 3, False, True),
                                       ("click", "", 4, False, False)]
    setup = ("from setuptools import setup\nsetup(\n"
             "    install_requires=['flask', 'itsdangerous==2.1'],\n)\n")
    assert names("setup.py", setup) == [("flask", "", 3, False, False),
                                        ("itsdangerous", "==2.1", 3, False, True)]
    pipfile = '[packages]\nflask = "*"\nbcrypt = "==4.1.2"\n[dev-packages]\npytest = "*"\n'
    assert names("Pipfile", pipfile) == [("flask", "", 2, False, False),
                                         ("bcrypt", "==4.1.2", 3, False, True),
                                         ("pytest", "", 5, True, False)]


@pytest.mark.parametrize("path", ["pyproject.toml", "Pipfile", "setup.py", "setup.cfg"])
def test_broken_files_give_nothing_rather_than_an_error(path: str) -> None:
    assert parse_dependency_file(path, "[[[ not valid (((\n\0") == []


def test_pip_compile_output_with_hashes_is_pinned() -> None:
    text = ("flask==3.0.0 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n"
            "click==8.1.7 --hash=sha256:0123\n")
    assert names("requirements.txt", text) == [
        ("flask", "==3.0.0", 1, False, True),
        ("click", "==8.1.7", 4, False, True),
    ]


def test_dev_names_are_whole_words() -> None:
    assert names("requirements-docker.txt", "gunicorn\n")[0][3] is False
    assert names("requirements-docs.txt", "sphinx\n")[0][3] is True


def test_lines_point_at_the_dependency_not_a_longer_name() -> None:
    text = '[project]\nname = "flaskr"\ndependencies = [\n    "flask",\n]\n'
    assert names("pyproject.toml", text) == [("flask", "", 4, False, False)]
