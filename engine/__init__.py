"""grok-tui's engine: modular-arithmetic tasks, models, training, geometry and run storage.

Importable on its own (from a notebook, say): it uses no UI code.
"""

__version__ = "0.1.0"
