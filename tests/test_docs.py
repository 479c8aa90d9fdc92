"""The documentation keeps up with the code: every command and option of the command line is named in its own
section of ``docs/cli.md`` (walked from ``lawstats.cli.build_parser()``, so a new command or option is checked
without touching this file), and every setting the code reads (environment variables, ``.streamlit/config.toml``
keys, ``.streamlit/secrets.toml`` keys) is named somewhere in the docs."""

from __future__ import annotations

import argparse
import re
import tomllib

import pytest

from lawstats import cli
from tests.conftest import ROOT

CLI_DOC = ROOT / "docs" / "cli.md"
CODE_READING_SETTINGS = [ROOT / "app.py", *sorted((ROOT / "lawstats").rglob("*.py")),
                         *sorted((ROOT / "pages").glob("*.py"))]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options(parser: argparse.ArgumentParser) -> list[str]:
    """The long form of every option (``--dry-run``), else its short form; ``-h`` is implied everywhere."""
    found = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or not action.option_strings:
            continue
        long = [o for o in action.option_strings if o.startswith("--")]
        found.append(long[0] if long else action.option_strings[0])
    return found


def _sections(text: str) -> dict[str, str]:
    """``## `name` `` headings and the text under each, up to the next heading of that level."""
    sections, name, lines = {}, None, []
    for line in text.splitlines():
        if line.startswith("## "):
            if name:
                sections[name] = "\n".join(lines)
            heading = re.search(r"`([\w-]+)`", line)
            name, lines = (heading.group(1) if heading else line[3:].strip()), []
        else:
            lines.append(line)
    if name:
        sections[name] = "\n".join(lines)
    return sections


def _docs_text() -> str:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def _mentioned(name: str, text: str) -> bool:
    """``name`` as a whole word (``--user`` is not found inside ``--users``)."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


PARSER = cli.build_parser()
COMMANDS = _subcommands(PARSER)


def test_the_walk_finds_the_commands_and_options():
    """The walk itself: if argparse's internals changed, the other tests must not pass by checking nothing."""
    assert {"init", "indicators", "adduser", "import", "undo", "deck"} <= set(COMMANDS)
    assert "--dry-run" in _options(COMMANDS["import"]) and "--db" in _options(PARSER)
    assert _sections("## `a`\nx --b\n## `c`\ny")["a"].strip() == "x --b"
    assert not _mentioned("--user", "--users FILE") and _mentioned("--user", "| `--user NAME` |")


def test_every_global_option_is_documented():
    text = CLI_DOC.read_text(encoding="utf-8")
    missing = [o for o in _options(PARSER) if not _mentioned(o, text)]
    assert not missing, f"global options missing from docs/cli.md: {missing}"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_a_section_naming_each_option(command):
    sections = _sections(CLI_DOC.read_text(encoding="utf-8"))
    assert command in sections, f"docs/cli.md has no section headed `{command}` (## `{command}`)"
    body = sections[command]
    missing = [o for o in _options(COMMANDS[command]) if not _mentioned(o, body)]
    assert not missing, f"options of `{command}` missing from its section in docs/cli.md: {missing}"


def _environment_variables() -> set[str]:
    # os.environ.get("X"), os.getenv("X"), or environ.get("X") on a mapping passed in (default os.environ)
    pattern = re.compile(r"""\b(?:os\.)?(?:environ\.get|environ\[|getenv)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")
    constants = re.compile(r"""^([A-Z][A-Z0-9_]*)\s*=\s*["']([A-Z][A-Z0-9_]+)["']""", re.M)
    found = set()
    for path in CODE_READING_SETTINGS:
        text = path.read_text(encoding="utf-8")
        found |= set(pattern.findall(text))
        # os.environ.get(USERS_ENV): the name is held in a module constant
        for constant, value in constants.findall(text):
            if re.search(rf"\b(?:os\.)?(?:environ\.get|environ\[|getenv)\(?\s*{constant}\b", text):
                found.add(value)
    return found


def test_every_environment_variable_the_code_reads_is_documented():
    variables = _environment_variables()
    assert {"LAWSTATS_DB", "LAWSTATS_USERS"} <= variables  # the scan itself works
    text = _docs_text()
    missing = sorted(v for v in variables if not _mentioned(v, text))
    assert not missing, f"environment variables read by the code but named in no doc: {missing}"


def _config_keys() -> list[str]:
    with open(ROOT / ".streamlit" / "config.toml", "rb") as f:
        config = tomllib.load(f)
    return [key for section in config.values() for key in section]


def test_every_streamlit_setting_is_documented():
    keys = _config_keys()
    assert "gatherUsageStats" in keys
    text = _docs_text()
    missing = [k for k in keys if not _mentioned(k, text)]
    assert not missing, f".streamlit/config.toml keys named in no doc: {missing}"


def _secrets_keys() -> set[str]:
    """The keys read from Streamlit secrets: every ``.get("…")`` or ``["…"]`` in a function that uses
    ``st.secrets``."""
    found = set()
    for path in CODE_READING_SETTINGS:
        for function in re.split(r"\n(?=def |    def )", path.read_text(encoding="utf-8")):
            if "st.secrets" in function:
                found |= set(re.findall(r"""(?:\.get\(|\[)\s*["'](\w+)["']""", function))
    return found


def test_every_secrets_setting_is_documented():
    keys = _secrets_keys()
    assert "users_file" in keys  # the scan itself works
    text = _docs_text()
    missing = sorted(k for k in keys if not _mentioned(k, text))
    assert not missing, f".streamlit/secrets.toml keys read by the code but named in no doc: {missing}"
