"""Who may change data: the analysts' accounts, password checks, lock-out after wrong passwords, sessions.

Viewing needs no login; uploading, undoing and managing analysts do. Accounts live in a TOML users file
OUTSIDE the repository (``$LAWSTATS_USERS``, a path from Streamlit secrets, or ``~/.config/lawstats/users.toml``)
holding only argon2id hashes (salted, slow; the ``argon2-cffi`` defaults: 64 MiB, 3 passes). No account and no
password ships: ``python -m lawstats adduser NAME`` creates the first one.

Wrong passwords are counted per name in a side file (``users.state.json``) so that a restart does not reset
them: five in a row lock the name for 15 minutes (names that have no account are counted and locked the same
way, so the answers do not tell which names exist). A login reserves its try in that file before the password
is verified, under a lock that holds across threads and processes, so that parallel guesses cannot outrun the
count: at most five verifications per name and lock period, however many arrive at once. At most
``MAX_CONCURRENT_HASHES`` argon2 computations (64 MiB each) run at a time in a process. Both files are written
atomically (temporary file, then rename) under the file lock, and readable by their owner only.

A new password must be long enough and hard to guess: ``zxcvbn`` estimates how many guesses it takes (knowing
the user name and the application's name), and a common, repeated, sequential, keyboard-pattern, date or
name-containing password is refused with the reason.

A session ends after 60 minutes without activity or 8 hours after the login, whichever comes first, and as
soon as its account is removed from the users file. The clock is injectable for tests.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
import tomllib
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from lawstats.errors import AuthError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_USERS_FILE = Path("~/.config/lawstats/users.toml")
USERS_ENV = "LAWSTATS_USERS"

MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
SESSION_IDLE_SECONDS = 60 * 60
SESSION_MAX_SECONDS = 8 * 60 * 60
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
MIN_PASSWORD_SCORE = 3  # zxcvbn's scale 0-4; 3: at least 10^8 guesses even for someone who knows the user name
MAX_CONCURRENT_HASHES = 2  # argon2 at 64 MiB each: a burst of logins costs at most 128 MiB at once
FORGET_FAILURES_AFTER = 24 * 60 * 60  # failure records of names without a lock are pruned after a day
NAME_PATTERN = re.compile(r"^[\w.\-@]{1,64}$")  # letters (Chinese too), digits, . - _ @

_THREAD_LOCK = threading.Lock()  # flock serialises processes; this serialises the threads of one process
_HASH_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


def users_path(explicit: str | os.PathLike | None = None, secrets_value: str | None = None) -> Path:
    """The users file: an explicit path (CLI ``--users``), else ``$LAWSTATS_USERS``, else the path given in
    Streamlit secrets, else ``~/.config/lawstats/users.toml``. A path inside the repository is refused."""
    chosen = explicit or os.environ.get(USERS_ENV) or secrets_value or DEFAULT_USERS_FILE
    path = Path(chosen).expanduser().resolve()
    if path.is_relative_to(PROJECT_ROOT):
        raise AuthError("auth.users_file_in_repo", path=str(path))
    return path


def normalise_name(name: str) -> str:
    """``Zhang `` and ``ｚｈａｎｇ`` are the same analyst: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", str(name)).strip().casefold()


@dataclass(frozen=True)
class Session:
    """A logged-in analyst. Times are seconds since the epoch from the store's clock."""
    user_name: str
    started_at: float
    last_seen: float


class UserStore:
    """The analysts' accounts in one users file, with the failure counts in a side file beside it."""

    def __init__(self, path: str | os.PathLike, clock: Callable[[], float] = time.time,
                 hasher: PasswordHasher | None = None):
        self.path = Path(path)
        self.state_path = self.path.with_name(self.path.stem + ".state.json")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    # -- accounts

    def names(self) -> list[str]:
        return sorted(self._read_users())

    def has_users(self) -> bool:
        return bool(self._read_users())

    def add(self, name: str, password: str, *, replace_existing: bool = False) -> str:
        """Create an account (or set a new password with ``replace_existing``). Returns the stored name."""
        name = normalise_name(name)
        if not NAME_PATTERN.match(name):
            raise AuthError("auth.bad_name", name=name)
        check_new_password(password, name)
        password_hash = self._hash(password)  # slow: done before taking the file lock
        with self._locked():
            users = self._read_users()
            if name in users and not replace_existing:
                raise AuthError("auth.user_exists", name=name)
            created = users.get(name, {}).get("created_at") or _iso(self.clock())
            users[name] = {"password_hash": password_hash, "created_at": created}
            self._write_users(users)
            state = self._read_state()
            state["failures"].pop(name, None)
            self._write_state(state)
        return name

    def change_password(self, session: Session, old_password: str, new_password: str) -> None:
        """A logged-in analyst sets a new password; the current one must be given again."""
        self.login(session.user_name, old_password)
        self.add(session.user_name, new_password, replace_existing=True)

    # -- logging in

    def login(self, name: str, password: str) -> Session:
        """A session for the right password; AuthError ``auth.bad_login`` or ``auth.locked`` otherwise.

        The try is counted as a wrong one before the password is verified (``_reserve_try``), and forgiven only
        when it was right: parallel tries cannot all pass the lock check before any of them is counted."""
        name = normalise_name(name)
        now = self.clock()
        left = self._reserve_try(name, now)
        stored = self._read_users().get(name, {}).get("password_hash")
        if not self._verify(stored, password):
            if left == 0:
                raise AuthError("auth.locked", minutes=_minutes(LOCK_SECONDS))
            raise AuthError("auth.bad_login", left=left)
        self._forget_failures(name)
        if stored and self.hasher.check_needs_rehash(stored):
            self._rehash(name, password)
        return Session(name, now, now)

    def check(self, session: Session) -> Session:
        """The session with its last activity set to now; AuthError ``auth.session_expired`` when it is over."""
        now = self.clock()
        if (now - session.last_seen > SESSION_IDLE_SECONDS or now - session.started_at > SESSION_MAX_SECONDS
                or session.user_name not in self._read_users()):
            raise AuthError("auth.session_expired")
        return replace(session, last_seen=now)

    def _verify(self, stored: str | None, password: str) -> bool:
        """argon2 verification (constant-time compare). An unknown name is checked against a dummy hash so
        that it costs the same time as a known one."""
        if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
            return False
        if stored is None:
            if self._dummy_hash is None:
                self._dummy_hash = self._hash(os.urandom(16).hex())
            stored, password = self._dummy_hash, password + "\0never"
        try:
            with _HASH_SLOTS:
                return self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _hash(self, password: str) -> str:
        with _HASH_SLOTS:
            return self.hasher.hash(password)

    def _rehash(self, name: str, password: str) -> None:
        """Parameters got stronger since the hash was made: store a new hash of the same password."""
        password_hash = self._hash(password)
        with self._locked():
            users = self._read_users()
            if name in users:
                users[name]["password_hash"] = password_hash
                self._write_users(users)

    # -- failures and locks

    def failures(self, name: str) -> int:
        """Wrong passwords in a row for this name (0 after a login or when a lock has run out)."""
        record = self._read_state()["failures"].get(normalise_name(name), {})
        if record.get("locked_until", 0) and record["locked_until"] <= self.clock():
            return 0
        return int(record.get("count", 0))

    def _reserve_try(self, name: str, now: float) -> int:
        """Count a try as a wrong password before it is verified, in one step under the file lock; raise
        ``auth.locked`` when the name is locked. Returns how many tries are left after this one (0: this
        was the last, and the name is locked from now on unless it turns out right)."""
        with self._locked():
            state = self._read_state()
            failures = state["failures"]
            record = failures.get(name, {})
            locked_until = record.get("locked_until", 0)
            if locked_until > now:
                raise AuthError("auth.locked", minutes=_minutes(locked_until - now))
            if locked_until:
                record = {}  # the lock has run out: start counting again
            count = int(record.get("count", 0)) + 1
            record = {"count": count, "last": now}
            if count >= MAX_FAILURES:
                record["locked_until"] = now + LOCK_SECONDS
            failures[name] = record
            _prune(failures, now)
            self._write_state(state)
        return max(0, MAX_FAILURES - count)

    def _forget_failures(self, name: str) -> None:
        with self._locked():
            state = self._read_state()
            if state["failures"].pop(name, None) is not None:
                self._write_state(state)

    # -- files

    @contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _THREAD_LOCK, open(self.lock_path, "a+b") as handle:
            _lock_file(handle)
            try:
                yield
            finally:
                _unlock_file(handle)

    def _read_users(self) -> dict[str, dict]:
        try:
            with open(self.path, "rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            return {}
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as e:
            raise AuthError("auth.users_file_bad", path=str(self.path), reason=str(e)[:200]) from e
        users = data.get("users", {})
        if not isinstance(users, dict):
            raise AuthError("auth.users_file_bad", path=str(self.path), reason="[users]")
        return {normalise_name(k): dict(v) for k, v in users.items() if isinstance(v, dict)}

    def _write_users(self, users: dict[str, dict]) -> None:
        lines = ["# lawstats 分析员账号 / analysts' accounts. Written by `python -m lawstats adduser`.",
                 "# Only argon2id hashes are stored here; keep this file outside the repository.", ""]
        for name in sorted(users):
            lines.append(f"[users.{json.dumps(name, ensure_ascii=False)}]")
            for key in ("password_hash", "created_at"):
                if users[name].get(key):
                    lines.append(f"{key} = {json.dumps(str(users[name][key]), ensure_ascii=False)}")
            lines.append("")
        _write_atomically(self.path, "\n".join(lines))

    def _read_state(self) -> dict:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (ValueError, OSError):
            data = {}  # a damaged counter file starts afresh: it holds counts, never passwords
        failures = data.get("failures") if isinstance(data, dict) else None
        return {"failures": failures if isinstance(failures, dict) else {}}

    def _write_state(self, state: dict) -> None:
        _write_atomically(self.state_path, json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True))


def check_new_password(password: str, name: str) -> None:
    """AuthError saying why, for a password too short, too long or too easy to guess for this (normalised) name."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError("auth.password_too_short", minimum=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError("auth.password_too_long", maximum=MAX_PASSWORD_LENGTH)
    weakness = password_weakness(password, name)
    if weakness:
        raise AuthError(weakness, name=name)


# What makes a password guessable, from the zxcvbn match that covers most of it, as a message key each.
_WEAKNESS_OF_PATTERN = {"repeat": "auth.password_repeated", "sequence": "auth.password_sequence",
                        "spatial": "auth.password_keyboard", "date": "auth.password_date",
                        "regex": "auth.password_date"}  # zxcvbn's only regex is "recent year"


def password_weakness(password: str, name: str = "") -> str | None:
    """None for a password that is hard enough to guess, else the message key saying why it is not.

    zxcvbn estimates the guesses an attacker needs who knows the user name and the application; a password
    holding the user name is refused whatever the estimate (``carol2024!`` for carol)."""
    from zxcvbn import zxcvbn  # about 50 ms to import its word lists: only when a password is set

    plain = normalise_name(password)
    if name and len(name) >= 3 and normalise_name(name) in plain:
        return "auth.password_has_name"
    estimate = zxcvbn(password, user_inputs=[name, "lawstats", "乡镇统计看板"], max_length=MAX_PASSWORD_LENGTH)
    if estimate["score"] >= MIN_PASSWORD_SCORE:
        return None
    longest = max(estimate["sequence"], key=lambda match: len(match["token"]), default={})
    if longest.get("pattern") == "dictionary":
        source = longest.get("dictionary_name")
        if source == "user_inputs" and longest.get("matched_word") == normalise_name(name):
            return "auth.password_has_name"
        return "auth.password_common" if source == "passwords" else "auth.password_word"
    return _WEAKNESS_OF_PATTERN.get(longest.get("pattern"), "auth.password_guessable")


def _prune(failures: dict, now: float) -> None:
    """Drop old records that hold no running lock, so names tried once do not pile up forever."""
    for name in [n for n, r in failures.items()
                 if r.get("locked_until", 0) <= now and now - r.get("last", 0) > FORGET_FAILURES_AFTER]:
        del failures[name]


def _minutes(seconds: float) -> int:
    return max(1, int(-(-seconds // 60)))


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(timestamp))


def _write_atomically(path: Path, text: str) -> None:
    """Write a temporary file beside ``path``, flush it to disk, then rename it over ``path`` (owner-only)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _lock_file(handle) -> None:
    if os.name == "nt":  # Windows intranet servers: msvcrt instead of fcntl
        import msvcrt
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
    else:
        import fcntl
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def _unlock_file(handle) -> None:
    if os.name == "nt":
        import msvcrt
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
