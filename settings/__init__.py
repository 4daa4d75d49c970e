"""The settings of the system: declared once in ``settings.catalog``, read through ``settings.model``.

``python -m settings`` writes the README's configuration tables from the declarations (``--check``
fails when they are out of date).
"""
