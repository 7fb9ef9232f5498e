"""default_home() and open_store(): the CLI's state directory."""

from pathlib import Path

import pytest

from agentic.store import (
    DATABASE_NAME,
    HOME_ENV,
    NewRecord,
    NotAStoreError,
    StoreOpenError,
    default_home,
    open_store,
)


class TestDefaultHome:
    def test_env_wins(self, monkeypatch, tmp_path):
        """$AGENTIC_HOME names the directory when set."""
        monkeypatch.setenv(HOME_ENV, str(tmp_path / "h"))
        assert default_home() == tmp_path / "h"

    def test_dot_agentic_in_cwd(self, monkeypatch, tmp_path):
        """Without the variable, it is ./.agentic."""
        monkeypatch.delenv(HOME_ENV, raising=False)
        assert default_home(tmp_path) == tmp_path / ".agentic"
        monkeypatch.chdir(tmp_path)
        assert default_home() == Path.cwd() / ".agentic"


class TestOpenStore:
    def test_creates_directory_and_database(self, tmp_path):
        """open_store makes the directory and <home>/events.db."""
        home = tmp_path / "deep" / ".agentic"
        with open_store(home) as store:
            store.append("a", [NewRecord("t", {})])
        assert (home / DATABASE_NAME).is_file()
        with open_store(home) as store:
            assert store.last_position() == 1

    def test_uses_default_home(self, monkeypatch, tmp_path):
        """Without an argument it opens the default home."""
        monkeypatch.setenv(HOME_ENV, str(tmp_path / "env-home"))
        with open_store() as store:
            assert store.path == tmp_path / "env-home" / DATABASE_NAME

    def test_home_is_a_file(self, tmp_path):
        """A home that is a file is a clear StoreOpenError."""
        home = tmp_path / "file"
        home.write_text("x")
        with pytest.raises(StoreOpenError, match="file"):
            open_store(home)

    def test_home_cannot_be_created(self):
        """A home on a read-only file system is a clear StoreOpenError."""
        with pytest.raises(StoreOpenError, match="cannot create"):
            open_store("/proc/agentic-cannot-exist/.agentic")

    def test_corrupt_database(self, tmp_path):
        """A corrupt events.db is a clear NotAStoreError naming it."""
        home = tmp_path / ".agentic"
        home.mkdir()
        (home / DATABASE_NAME).write_bytes(b"\x00garbage" * 512)
        with pytest.raises(NotAStoreError, match=DATABASE_NAME):
            open_store(home)
