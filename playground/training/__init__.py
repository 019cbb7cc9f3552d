"""Training off the UI thread: the worker, what it and the Session say to each other, and its pace."""
