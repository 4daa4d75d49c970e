"""Lambda handlers of the card-transaction system (validation, fraud detection, failed transactions)."""
