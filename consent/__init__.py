"""Marketing consent per channel: revoked by keyword in chat or by a signed unsubscribe link."""
