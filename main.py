"""cdktf entry point: the settings of one environment (its committed file, environment variables
overriding single settings), both stacks, synth."""

import os
import sys

from card_transactions.stacks import bindings

bindings.activate()  # before any CDK module is imported: the toolkit, fast provider import, pinned Node

from card_transactions.settings.environments import load_environment  # noqa: E402
from card_transactions.stacks.app import build_app  # noqa: E402
from card_transactions.stacks.config import Settings  # noqa: E402

try:
    environment = load_environment(Settings, os.environ)
except ValueError as error:
    sys.exit(f"synth stopped: {error}")
print(environment.describe(), flush=True)
build_app(environment.settings).synth()
