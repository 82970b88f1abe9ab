"""The report notebooks, installed as the package ``lscb.notebooks`` (see ``pyproject.toml``) so
that ``lscb report`` finds them with ``importlib.resources`` wherever the project is installed."""
