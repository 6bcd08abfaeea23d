"""The REST API, `/api/v1`: thin routes that parse, call a core action and answer."""
