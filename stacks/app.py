"""Builds the cdktf app: the bootstrap (state backend) stack and the transaction stack."""

from __future__ import annotations

from cdktf import App

from stacks.config import Settings
from stacks.state_backend_stack import StateBackendStack
from stacks.transaction_stack import TransactionStack

STATE_BACKEND_STACK = "state-backend"
TRANSACTION_STACK = "transaction-processing"


def build_app(settings: Settings, outdir: str | None = None) -> App:
    app = App(outdir=outdir) if outdir else App()
    StateBackendStack(app, STATE_BACKEND_STACK, settings)
    TransactionStack(app, TRANSACTION_STACK, settings)
    return app
