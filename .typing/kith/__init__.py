"""Only for mypy: `kith` is a namespace package at run time, but mypy's package walk (`-p
kith`) takes data folders such as web/inbox/i18n/ for the module of the same name unless the
top package is a regular one."""
