"""paper2code: turn a machine-learning paper into a repository that runs."""

__version__ = "0.1.0"
