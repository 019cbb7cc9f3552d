import os

# Qt draws offscreen so the suite runs without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
