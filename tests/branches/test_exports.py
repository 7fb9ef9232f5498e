"""The public surface of agentic.branches, and its errors as values."""

from __future__ import annotations

import pickle

from agentic import branches
from agentic.actors import ActorDeadError
from agentic.branches import BranchError, BranchStateError, BranchStoppedError, ChatFailedError


class TestExports:
    def test_all_is_the_sorted_public_names(self):
        """__all__ lists public names once each, every one of them defined."""
        public = {name for name in vars(branches) if not name.startswith("_")}
        assert len(set(branches.__all__)) == len(branches.__all__)
        assert set(branches.__all__) <= public
        assert "spawn_branch" in branches.__all__
        assert "BranchRef" in branches.__all__

    def test_every_module_declares_all(self):
        """Every module of the package declares __all__."""
        import importlib
        import pkgutil

        for info in pkgutil.iter_modules(branches.__path__):
            module = importlib.import_module(f"agentic.branches.{info.name}")
            assert hasattr(module, "__all__"), info.name


class TestErrors:
    def test_errors_pickle_with_their_attributes(self):
        """Errors cross actor boundaries as values: they pickle with their attributes."""
        errors = [
            BranchError("x", branch="b"),
            BranchStateError("y", branch="b", state="running"),
            BranchStoppedError("z", branch="b"),
            ChatFailedError("w", branch="b", event=None),
        ]
        for error in errors:
            copy = pickle.loads(pickle.dumps(error))
            assert type(copy) is type(error)
            assert str(copy) == str(error)
            assert copy.branch == "b"

    def test_stopped_is_a_state_error_and_dead_actor(self):
        """BranchStoppedError is caught as BranchStateError and as ActorDeadError."""
        error = BranchStoppedError("gone", branch="b")
        assert isinstance(error, BranchStateError)
        assert isinstance(error, ActorDeadError)
        assert error.name == "b"
        assert error.state == "stopped"
