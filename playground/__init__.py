"""Backprop Playground: the Qt application around core."""
