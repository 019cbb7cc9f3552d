"""Backprop Playground's engine: a multilayer perceptron trained by backpropagation, in NumPy alone."""
from .activations import ACTIVATIONS
from .layers import Dense
from .losses import LOSSES
from .network import Network
from .optimizers import OPTIMIZERS
from .trainer import DivergenceError, EpochStats, History, Trainer

__all__ = ["ACTIVATIONS", "Dense", "DivergenceError", "EpochStats", "History", "LOSSES", "Network",
           "OPTIMIZERS", "Trainer"]
