"""Analysts' accounts: argon2 hashes, lock-out after five wrong passwords, session expiry, the users file's
place, and ``python -m lawstats adduser``."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib

import pytest
from argon2 import PasswordHasher

from lawstats import auth
from lawstats.errors import AuthError

ROOT = auth.PROJECT_ROOT
FAST = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)  # same algorithm, cheaper, for speed


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def users(tmp_path, clock) -> auth.UserStore:
    store = auth.UserStore(tmp_path / "cfg" / "users.toml", clock=clock, hasher=FAST)
    store.add("zhang", "correct horse")
    return store


def test_hash_is_salted_argon2id_and_never_the_password(tmp_path):
    store = auth.UserStore(tmp_path / "users.toml")  # the real (default) parameters
    store.add("zhang", "same password")
    store.add("li", "same password")
    text = (tmp_path / "users.toml").read_text(encoding="utf-8")
    assert "same password" not in text
    hashes = {name: row["password_hash"] for name, row in tomllib.loads(text)["users"].items()}
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    assert hashes["zhang"] != hashes["li"]  # a salt each
    assert "m=65536,t=3" in hashes["zhang"]  # slow: 64 MiB, three passes
    assert stat.S_IMODE(os.stat(tmp_path / "users.toml").st_mode) == 0o600


def test_right_password_logs_in_and_names_are_normalised(users, clock):
    session = users.login(" ZHANG ", "correct horse")
    assert session.user_name == "zhang"
    assert session.started_at == clock.now


def test_wrong_password_is_counted_and_a_login_resets_the_count(users):
    with pytest.raises(AuthError) as wrong:
        users.login("zhang", "wrong")
    assert wrong.value.key == "auth.bad_login" and wrong.value.params["left"] == 4
    assert users.failures("zhang") == 1
    users.login("zhang", "correct horse")
    assert users.failures("zhang") == 0


def test_five_wrong_passwords_lock_for_fifteen_minutes_and_survive_a_restart(users, clock, tmp_path):
    for attempt in range(4):
        with pytest.raises(AuthError) as wrong:
            users.login("zhang", "wrong")
        assert wrong.value.key == "auth.bad_login"
    with pytest.raises(AuthError) as fifth:
        users.login("zhang", "wrong")
    assert fifth.value.key == "auth.locked" and fifth.value.params["minutes"] == 15

    restarted = auth.UserStore(users.path, clock=clock, hasher=FAST)  # a new process reads the side file
    clock.advance(14 * 60 + 59)
    with pytest.raises(AuthError) as still:
        restarted.login("zhang", "correct horse")  # even the right password waits out the lock
    assert still.value.key == "auth.locked" and still.value.params["minutes"] == 1

    clock.advance(2)
    assert restarted.login("zhang", "correct horse").user_name == "zhang"
    assert restarted.failures("zhang") == 0


def test_unknown_names_are_answered_like_known_ones(users):
    with pytest.raises(AuthError) as unknown:
        users.login("nobody", "correct horse")
    assert unknown.value.key == "auth.bad_login" and unknown.value.params["left"] == 4
    for _ in range(4):
        with pytest.raises(AuthError) as last:
            users.login("nobody", "x")
    assert last.value.key == "auth.locked"


def test_session_expires_after_an_hour_idle(users, clock):
    session = users.login("zhang", "correct horse")
    clock.advance(59 * 60)
    session = users.check(session)
    assert session.last_seen == clock.now
    clock.advance(60 * 60 + 1)
    with pytest.raises(AuthError) as expired:
        users.check(session)
    assert expired.value.key == "auth.session_expired"


def test_session_expires_eight_hours_after_login_even_when_active(users, clock):
    session = users.login("zhang", "correct horse")
    for _ in range(16):
        clock.advance(30 * 60)
        session = users.check(session)
    clock.advance(1)
    with pytest.raises(AuthError) as expired:
        users.check(session)
    assert expired.value.key == "auth.session_expired"


def test_session_ends_when_the_account_is_removed(users, clock):
    session = users.login("zhang", "correct horse")
    users.path.write_text("# emptied by the administrator\n", encoding="utf-8")
    with pytest.raises(AuthError) as ended:
        users.check(session)
    assert ended.value.key == "auth.session_expired"


def test_password_rules_and_duplicate_names(users):
    with pytest.raises(AuthError) as short:
        users.add("li", "short")
    assert short.value.key == "auth.password_too_short"
    with pytest.raises(AuthError) as bad:
        users.add("a b", "long enough pw")
    assert bad.value.key == "auth.bad_name"
    with pytest.raises(AuthError) as twice:
        users.add("Zhang", "another password")
    assert twice.value.key == "auth.user_exists"
    users.add("zhang", "another password", replace_existing=True)
    assert users.login("zhang", "another password").user_name == "zhang"
    assert users.names() == ["zhang"]


def test_change_password_needs_the_current_one(users):
    session = users.login("zhang", "correct horse")
    with pytest.raises(AuthError):
        users.change_password(session, "not it", "brand new password")
    users.change_password(session, "correct horse", "brand new password")
    assert users.login("zhang", "brand new password").user_name == "zhang"


def test_users_file_lives_outside_the_repository(tmp_path, monkeypatch):
    monkeypatch.delenv(auth.USERS_ENV, raising=False)
    default = auth.users_path()
    assert not default.is_relative_to(ROOT)
    assert default == auth.DEFAULT_USERS_FILE.expanduser().resolve()
    monkeypatch.setenv(auth.USERS_ENV, str(tmp_path / "u.toml"))
    assert auth.users_path(secrets_value="/elsewhere/users.toml") == (tmp_path / "u.toml").resolve()
    monkeypatch.setenv(auth.USERS_ENV, str(ROOT / "users.toml"))
    with pytest.raises(AuthError) as inside:
        auth.users_path()
    assert inside.value.key == "auth.users_file_in_repo"


def test_a_damaged_users_file_is_a_clear_error(tmp_path):
    path = tmp_path / "users.toml"
    path.write_text("[users\nnot toml", encoding="utf-8")
    with pytest.raises(AuthError) as bad:
        auth.UserStore(path).login("zhang", "whatever1")
    assert bad.value.key == "auth.users_file_bad"


def _adduser(tmp_path, *args, password: str):
    env = {**os.environ, auth.USERS_ENV: str(tmp_path / "users.toml")}
    return subprocess.run([sys.executable, "-m", "lawstats", "adduser", *args, "--password-stdin"],
                          input=password + "\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)


def test_adduser_cli_creates_an_analyst_who_can_log_in(tmp_path):
    done = _adduser(tmp_path, "王分析", password="秘密 password 1")
    assert done.returncode == 0, done.stderr
    assert "王分析" in done.stdout
    assert auth.UserStore(tmp_path / "users.toml").login("王分析", "秘密 password 1").user_name == "王分析"

    again = _adduser(tmp_path, "王分析", password="another password")
    assert again.returncode == 2 and again.stdout == ""
    short = _adduser(tmp_path, "li", password="short")
    assert short.returncode == 2
    assert auth.UserStore(tmp_path / "users.toml").names() == ["王分析"]

    replaced = _adduser(tmp_path, "王分析", "--replace", password="another password")
    assert replaced.returncode == 0, replaced.stderr
    assert auth.UserStore(tmp_path / "users.toml").login("王分析", "another password").user_name == "王分析"
