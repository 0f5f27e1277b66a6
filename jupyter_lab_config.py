# `make lab` starts JupyterLab with this file: its file browser on notebooks/ shows the chapters
# only, not the files that build and test them (tests/test_lab_config.py keeps the list whole).
c = get_config()  # noqa: F821 - provided by Jupyter when it loads this file
c.ContentsManager.hide_globs = [
    "__pycache__", "*.pyc", "*.pyo", "*.egg-info", ".ipynb_checkpoints", "*~",
    "py",             # the chapters' paired .py sources (jupytext keeps them in step)
    "build.py",       # runs every chapter and stores its outputs
    "conftest.py",    # the notebook tests' settings
    "jupytext.toml",  # the pairing
    "sanitize.cfg",   # what the notebook tests ignore in outputs
]
