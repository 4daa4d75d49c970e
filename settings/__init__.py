"""The settings of the system, each declared once: the deployment's in ``settings.catalog``, the local
runtime's beside it (``local.config``); the fixed values both are checked against in ``settings.system``.
``settings.model`` says how a declaration is read.

``python -m settings`` writes the configuration tables of the docs from the declarations (``--check``
fails when they are out of date).
"""
