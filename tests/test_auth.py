"""Analysts' accounts: argon2 hashes, lock-out after five wrong passwords (also under parallel guesses from
threads and processes), password strength, session expiry, the users file's place, and
``python -m lawstats adduser``."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
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
    store.add("zhang", "same quiet harbour lamp")
    store.add("li", "same quiet harbour lamp")
    text = (tmp_path / "users.toml").read_text(encoding="utf-8")
    assert "same quiet harbour lamp" not in text
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


# --- lock-out under parallel guesses (issue 9 item 10): threads and processes -----------------------------


class CountingHasher(PasswordHasher):
    """The cheap hasher, counting verifications and how many run at once; each takes ``seconds`` at least so
    that parallel tries overlap as they would with the real 64 MiB hashes."""

    def __init__(self, seconds: float = 0.02, gate: threading.Event | None = None):
        super().__init__(time_cost=1, memory_cost=8 * 1024, parallelism=1)
        self.seconds, self.gate = seconds, gate
        self.verifications = self.running = self.most_at_once = 0
        self._count = threading.Lock()

    def verify(self, hash, password):
        with self._count:
            self.verifications += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.gate is not None:
                self.gate.wait(30)
            time.sleep(self.seconds)
            return super().verify(hash, password)
        finally:
            with self._count:
                self.running -= 1


def _try_all(store: auth.UserStore, passwords: list[str], name: str = "zhang") -> list[str]:
    """Every password tried at once from its own thread; the outcome of each: ``ok`` or the error key."""
    outcomes = [""] * len(passwords)
    start = threading.Barrier(len(passwords))

    def attempt(i: int) -> None:
        start.wait()
        try:
            store.login(name, passwords[i])
            outcomes[i] = "ok"
        except AuthError as e:
            outcomes[i] = e.key

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(passwords))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


@pytest.fixture
def counted(tmp_path, clock) -> tuple[auth.UserStore, CountingHasher]:
    hasher = CountingHasher()
    store = auth.UserStore(tmp_path / "cfg" / "users.toml", clock=clock, hasher=hasher)
    store.add("zhang", "correct horse")
    return store, hasher


def test_a_hundred_parallel_wrong_guesses_verify_only_five(counted):
    store, hasher = counted
    outcomes = _try_all(store, [f"guess {i}" for i in range(100)])
    assert hasher.verifications == auth.MAX_FAILURES  # the other 95 are refused before any hashing
    assert outcomes.count("auth.bad_login") == auth.MAX_FAILURES - 1  # the fifth wrong one says "locked"
    assert outcomes.count("auth.locked") == 100 - (auth.MAX_FAILURES - 1)
    assert store.failures("zhang") == auth.MAX_FAILURES
    with pytest.raises(AuthError) as locked:
        store.login("zhang", "correct horse")
    assert locked.value.key == "auth.locked"


def test_the_right_password_inside_a_burst_of_wrong_ones_is_locked_out(tmp_path, clock):
    """39 wrong guesses in flight (their verifications held back), then the right password: the five tries
    of the period are already taken, so it is refused without being checked."""
    gate = threading.Event()
    hasher = CountingHasher(seconds=0, gate=gate)
    store = auth.UserStore(tmp_path / "users.toml", clock=clock, hasher=hasher)
    store.add("zhang", "correct horse")
    burst = threading.Thread(target=_try_all, args=(store, [f"guess {i}" for i in range(39)]))
    burst.start()
    try:
        deadline = time.monotonic() + 30
        while store.failures("zhang") < auth.MAX_FAILURES and time.monotonic() < deadline:
            time.sleep(0.01)  # until the burst has taken every try of the period
        with pytest.raises(AuthError) as right:
            store.login("zhang", "correct horse")
        assert right.value.key == "auth.locked"
    finally:
        gate.set()
        burst.join(60)
    assert hasher.verifications == auth.MAX_FAILURES


def test_concurrent_argon2_computations_are_bounded(tmp_path, clock):
    """Each real verification holds 64 MiB: a burst of logins under many names runs only a few at a time."""
    hasher = CountingHasher(seconds=0.05)
    store = auth.UserStore(tmp_path / "users.toml", clock=clock, hasher=hasher)
    store.add("zhang", "correct horse")
    outcomes = []
    threads = [threading.Thread(target=lambda n=n: outcomes.append(_try_all(store, ["wrong one"], name=n)))
               for n in ["zhang", *(f"user{i}" for i in range(11))]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert hasher.verifications == 12
    assert hasher.most_at_once == 2  # auth.MAX_CONCURRENT_HASHES: 128 MiB at most


PROCESS_GUESSER = r"""
import os, sys, time
from argon2 import PasswordHasher
from lawstats import auth
from lawstats.errors import AuthError

users, log, go = sys.argv[1:4]

class LoggingHasher(PasswordHasher):
    def verify(self, hash, password):  # one line per verification, appended atomically by every process
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, b"v\n")
        os.close(fd)
        time.sleep(0.05)
        return super().verify(hash, password)

store = auth.UserStore(users, hasher=LoggingHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
while not os.path.exists(go):
    time.sleep(0.005)
for i in range(6):
    try:
        store.login("zhang", f"wrong {os.getpid()} {i}")
    except AuthError as e:
        print(e.key)
"""


def test_parallel_guesses_from_several_processes_verify_only_five(tmp_path):
    users = tmp_path / "users.toml"
    auth.UserStore(users, hasher=FAST).add("zhang", "correct horse")
    log, go = tmp_path / "verifications.log", tmp_path / "go"
    children = [subprocess.Popen([sys.executable, "-c", PROCESS_GUESSER, str(users), str(log), str(go)],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]
    time.sleep(1.0)  # every child has imported and waits for the start signal
    go.touch()
    outputs = [child.communicate(timeout=120) for child in children]
    assert all(child.returncode == 0 for child in children), [err for _, err in outputs]
    keys = [key for out, _ in outputs for key in out.split()]
    assert len(keys) == 24 and set(keys) <= {"auth.bad_login", "auth.locked"}
    assert log.read_text().count("v") == auth.MAX_FAILURES
    assert auth.UserStore(users, hasher=FAST).failures("zhang") == auth.MAX_FAILURES


# --- weak passwords (issue 9 item 11) ------------------------------------------------------------------------


@pytest.mark.parametrize(("password", "reason"), [
    ("        ", "auth.password_repeated"),  # eight spaces
    ("12345678", "auth.password_common"),
    ("carolcarol", "auth.password_has_name"),
    ("Carol2024!", "auth.password_has_name"),
    ("qwertyuiop", "auth.password_common"),
    ("zxcvbnm,./", "auth.password_keyboard"),
    ("abcdefghijk", "auth.password_sequence"),
    ("19851023", "auth.password_date"),
    ("michaeljackson", "auth.password_word"),
])
def test_common_and_guessable_passwords_are_refused_with_the_reason(tmp_path, password, reason):
    store = auth.UserStore(tmp_path / "users.toml", hasher=FAST)
    with pytest.raises(AuthError) as weak:
        store.add("carol", password)
    assert weak.value.key == reason
    assert store.names() == []


@pytest.mark.parametrize("password", ["a long test password", "correct horse", "秘密 password 1",
                                      "Tr0ub4dor&3", "我家门前有两棵枣树"])
def test_passwords_that_are_hard_to_guess_are_accepted(tmp_path, password):
    store = auth.UserStore(tmp_path / "users.toml", hasher=FAST)
    store.add("carol", password)
    assert store.login("carol", password).user_name == "carol"


def test_adduser_cli_refuses_a_weak_password_and_says_why_in_the_users_language(tmp_path):
    reasons = [("12345678", "常见密码"), ("carolcarol", "用户名“carol”"), ("        ", "重复")]
    for password, words_zh in reasons:
        refused = _adduser(tmp_path, "carol", password=password)
        assert refused.returncode == 2 and words_zh in refused.stderr, refused.stderr
    english = subprocess.run([sys.executable, "-m", "lawstats", "--lang", "en", "adduser", "carol", "--password-stdin"],
                             input="12345678\n", capture_output=True, text=True, cwd=ROOT, timeout=60,
                             env={**os.environ, auth.USERS_ENV: str(tmp_path / "users.toml")})
    assert english.returncode == 2 and "common password" in english.stderr
    assert not (tmp_path / "users.toml").exists()


def test_adduser_prompt_refuses_a_weak_password_before_asking_for_it_again(tmp_path, monkeypatch, capsys):
    import getpass

    from lawstats import cli

    asked = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": asked.append(prompt) or "carolcarol")
    code = cli.main(["adduser", "carol", "--users", str(tmp_path / "users.toml")])
    assert code == 2 and len(asked) == 1
    assert "用户名“carol”" in capsys.readouterr().err
    assert not (tmp_path / "users.toml").exists()
