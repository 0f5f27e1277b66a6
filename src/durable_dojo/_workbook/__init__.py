"""Checked exercises of the workbook: a cell the learner edits, a check that runs it on the emulator.

`manifest.py` lists the exercises (`exercises.toml`), `framework.py` runs a check and words its
verdict, `chapterNN.py` holds the checks of one chapter. The public face is `durable_dojo.workbook`.
"""
