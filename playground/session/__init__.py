"""The app's one state (``Session``) and what it keeps: undoable edits, the run's history, recovery."""
from playground.session.session import Session, Specs, ViewOptions

__all__ = ["Session", "Specs", "ViewOptions"]
