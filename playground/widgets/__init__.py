"""Small widgets of the window; each previews on its own: ``python -m playground.widgets.NAME``."""
