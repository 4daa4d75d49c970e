"""One small construct per concern.

Construct ids are part of the contract: renaming one replaces its resources.
"""
