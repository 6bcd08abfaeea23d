"""The `kith` command: run the server, the demo, and manage tokens and users."""

from __future__ import annotations

import asyncio
import getpass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kith.core.models import Role
from kith.core.settings import Settings, get_settings
from kith.nlp.cli import app as nlp_app

if TYPE_CHECKING:
    from kith.core.context import Core

app = typer.Typer(
    name="kith",
    help="Kith: a social CRM. Every channel in one inbox, bots, sentiment and nurture sequences.",
    no_args_is_help=True,
    add_completion=False,
)
token_app = typer.Typer(help="Workspace API tokens.", no_args_is_help=True)
user_app = typer.Typer(help="Agent, admin and marketer accounts.", no_args_is_help=True)
secrets_app = typer.Typer(
    help="Secrets sealed at rest: move them to a new key.", no_args_is_help=True
)
customers_app = typer.Typer(help="Customers: import from CSV.", no_args_is_help=True)
sequences_app = typer.Typer(help="Nurture sequences: list, enrol in bulk.", no_args_is_help=True)
search_app = typer.Typer(help="Inbox search: index what was stored before.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")
app.add_typer(secrets_app, name="secrets")
app.add_typer(customers_app, name="customers")
app.add_typer(sequences_app, name="sequences")
app.add_typer(search_app, name="search")
app.add_typer(nlp_app, name="nlp")


def fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [KITH_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [KITH_PORT].")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Run Kith: the API, webhooks, the inbox and the background workers in one process."""
    import uvicorn

    from kith.core.logs import setup_logging

    settings = get_settings()
    if workers > 1 and not settings.mongo_uri:
        fail("--workers above 1 needs KITH_MONGO_URI: the embedded engine lives in one process.")
    if settings.mongo_uri and not settings.secret_key:
        fail(
            "KITH_SECRET_KEY is not set. With a real database it must be: without it each "
            "process signs web chat visitors with its own random key, and channel secrets "
            "would be stored in clear. Generate one once and keep it, e.g.\n"
            "  export KITH_SECRET_KEY="
            "$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    setup_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        "kith.web.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=None,
        proxy_headers=True,
    )


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Run a demo on the embedded engine with sample customers, conversations and logins."""
    from kith.web.demo import run_demo

    asyncio.run(run_demo(host, port))


def _persistent_settings(uses: str = "writes to") -> Settings:
    """The settings, refused without a MongoDB: the embedded engine starts empty each run."""
    settings = get_settings()
    if not settings.mongo_uri:
        fail(
            f"this command {uses} the database, but KITH_MONGO_URI is not set: the embedded "
            "engine keeps nothing between runs (a running `kith demo` keeps its data in its own "
            "memory: use its API). Set KITH_MONGO_URI to your MongoDB."
        )
    return settings


async def _with_core(settings: Settings, action):
    from kith.core.workspaces import ensure_default_workspace
    from kith.web.app import build_core

    core = build_core(settings)
    try:
        await core.start()
        workspace = await ensure_default_workspace(core)
        return await action(core, workspace.id)
    finally:
        await core.close()


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    read_only: Annotated[
        bool, typer.Option("--read-only", help="The token may only read (GET, HEAD).")
    ] = False,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Days until it stops working.")
    ] = None,
) -> None:
    """Create a workspace API token and print it (it is shown only once)."""
    from datetime import timedelta

    from kith.core.api_tokens import TokenScope, issue_api_token
    from kith.core.clock import wall
    from kith.core.errors import KithError

    scope = TokenScope.read if read_only else TokenScope.full

    async def create(core: Core, ws: str) -> str:
        days = timedelta(days=expires_in_days) if expires_in_days else None
        expires = wall(core.clock).now() + days if days else None
        return (await issue_api_token(core, ws, name, scope=scope, expires_at=expires))[1]

    try:
        token = asyncio.run(_with_core(_persistent_settings(), create))
    except KithError as exc:
        fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)
    typer.echo(token)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


@token_app.command("list")
def token_list() -> None:
    """List the workspace's API tokens: id, name, scope, created, last used, expires."""
    from kith.core.api_tokens import list_api_tokens

    found = asyncio.run(_with_core(_persistent_settings("reads"), list_api_tokens))
    typer.echo("id\tname\tscope\tcreated\tlast used\texpires")
    for t in found:
        row = (t.id, t.name, t.scope.value, _when(t.created_at))
        typer.echo("\t".join((*row, _when(t.last_used_at), _when(t.expires_at))))


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (see `kith token list`).")],
) -> None:
    """Revoke an API token: it stops working at once."""
    from kith.core.api_tokens import revoke_api_token
    from kith.core.errors import KithError

    try:
        asyncio.run(
            _with_core(
                _persistent_settings(), lambda core, ws: revoke_api_token(core, ws, token_id)
            )
        )
    except KithError as exc:
        fail(exc.message)
    typer.echo(f"revoked {token_id}")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Login email.")],
    role: Annotated[Role, typer.Option(help="admin, agent or marketer.")] = Role.agent,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password: Annotated[
        str | None, typer.Option(help="Password; asked for when omitted.", envvar="KITH_PASSWORD")
    ] = None,
) -> None:
    """Create a user who can log in to the inbox."""
    from kith.core.auth import create_user
    from kith.core.errors import KithError

    if password is None:
        password = getpass.getpass("Password: ")
    try:
        user = asyncio.run(
            _with_core(
                _persistent_settings(),
                lambda core, ws: create_user(core, ws, email, password, name=name, role=role),
            )
        )
    except KithError as exc:
        fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)
    typer.echo(f"created {user.role.value} {user.email} ({user.id})")


@secrets_app.command("reseal")
def secrets_reseal() -> None:
    """Seal every stored secret with the current KITH_SECRET_KEY (after rotating it, or for
    secrets saved before a key was set): channels', bots' and sequences' webhook keys, webhook
    endpoints' signing secrets. Then KITH_OLD_SECRET_KEYS can be dropped."""
    from kith.core.errors import KithError
    from kith.core.sealing import reseal

    try:
        settings = _persistent_settings()
        counts = asyncio.run(_with_core(settings, lambda core, ws: reseal(core)))
    except KithError as exc:
        fail(exc.message)
    for name, count in counts.items():
        typer.echo(f"{name}: resealed {count} document(s)")
    typer.echo("every secret is sealed with the current KITH_SECRET_KEY")


@customers_app.command("import")
def customers_import(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="The CSV or Excel (.xlsx) file.")
    ],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="column=field, repeatable (name, email, phone, external_id, locale, timezone, "
            "tags, attributes.<key>, consent.<channel type>). Default: columns named like one.",
        ),
    ] = None,
    tag_separator: Annotated[
        str | None, typer.Option(help="What splits a tags cell (default: , ， ; ； |).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="The file's charset; default: detected.")
    ] = None,
) -> None:
    """Import customers from a CSV file or an Excel workbook (.xlsx, its first sheet), merging
    by external id, email or phone; rows that cannot be imported are listed (row, column, why)
    and the rest go in."""
    from kith.contacts.cli import import_file, parse_map
    from kith.contacts.imports import ImportOptions
    from kith.contacts.tables import format_of_path
    from kith.core.errors import KithError
    from kith.core.jobs import Job, JobStatus

    settings = _persistent_settings()
    try:
        options = ImportOptions(
            mapping=parse_map(map_ or []),
            tag_separator=tag_separator,
            encoding=encoding,
            file_format=format_of_path(file),
        )
    except KithError as exc:
        fail(f"{exc.field}: {exc.message}")
    data = file.read_bytes()
    with typer.progressbar(length=1, label="importing") as bar:

        def shown(job: Job) -> None:
            bar.length = job.progress.total or 1
            bar.update(job.progress.done - bar.pos)

        try:
            job = asyncio.run(
                _with_core(settings, lambda core, ws: import_file(core, ws, data, options, shown))
            )
        except KithError as exc:
            fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)
    counts = ", ".join(f"{k} {n}" for k, n in sorted(job.result.items()))
    typer.echo(f"job {job.id}: {job.status.value}; {counts}")
    for warning in job.warnings:  # columns no field takes
        typer.echo(f"  column {warning.column or '?'} ignored: {warning.message}", err=True)
    for error in job.errors:
        typer.echo(f"  row {error.row}, column {error.column}: {error.message}", err=True)
    if job.error_count > len(job.errors):
        typer.echo(f"  … and {job.error_count - len(job.errors)} more", err=True)
    if job.status != JobStatus.done:
        fail(job.error or f"the import is {job.status.value}")


@sequences_app.command("list")
def sequences_list() -> None:
    """List the workspace's sequences: id, name, status, version, last change."""
    from kith.sequences.cli import every_sequence

    found = asyncio.run(_with_core(_persistent_settings("reads"), every_sequence))
    typer.echo("id\tname\tstatus\tversion\tupdated")
    for s in found:
        typer.echo(f"{s.id}\t{s.name}\t{s.status.value}\t{s.version}\t{_when(s.updated_at)}")


@sequences_app.command("enrol")
def sequences_enrol(
    sequence_id: Annotated[str, typer.Argument(help="The sequence (see `kith sequences list`).")],
    segment: Annotated[str | None, typer.Option(help="Enrol this segment's members.")] = None,
    customers: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="A file of customer ids, one a line."),
    ] = None,
) -> None:
    """Enrol a segment's members (or the customers a file lists) in an active sequence, with
    a progress bar; customers already enrolled, or unreachable, are counted apart."""
    from kith.core.errors import KithError
    from kith.core.jobs import Job, JobStatus
    from kith.sequences.cli import enrol, read_ids

    if (segment is None) == (customers is None):
        fail("give either --segment or --customers")
    settings = _persistent_settings()
    try:
        ids = read_ids(customers.read_text(encoding="utf-8-sig")) if customers else None
    except KithError as exc:
        fail(f"{exc.field}: {exc.message}")
    with typer.progressbar(length=1, label="enrolling") as bar:

        def shown(job: Job) -> None:
            bar.length = job.progress.total or 1
            bar.update(job.progress.done - bar.pos)

        try:
            job = asyncio.run(
                _with_core(
                    settings, lambda core, ws: enrol(core, ws, sequence_id, segment, ids, shown)
                )
            )
        except KithError as exc:
            fail(f"{exc.field}: {exc.message}" if exc.field else exc.message)
    counts = ", ".join(f"{k} {n}" for k, n in sorted(job.result.items())) or "nobody"
    typer.echo(f"job {job.id}: {job.status.value}; {counts}")
    if job.status != JobStatus.done:
        fail(job.error or f"the enrolment is {job.status.value}")


@search_app.command("reindex")
def search_reindex(
    every: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Compute every document's terms again, not only the missing ones (after an "
            "upgrade that finds more: since December 2026 a Chinese character ending a run, "
            "and Latin and Greek words without their accents).",
        ),
    ] = False,
) -> None:
    """Give messages, customers, tickets and conversations stored before search existed (or
    written by another tool) their search terms, in batches; safe to run again and while Kith
    serves."""
    from kith.core.search import reindex

    def shown(what: str, count: int) -> None:
        typer.echo(f"\r{what}: {count:,}", nl=False)

    counts = asyncio.run(
        _with_core(_persistent_settings(), lambda core, ws: reindex(core, shown, every=every))
    )
    typer.echo("")
    typer.echo("indexed " + ", ".join(f"{n:,} {what}" for what, n in counts.items()))


@app.command()
def chat(
    channel_id: Annotated[str, typer.Option(help="The API channel's id.")],
    channel_token: Annotated[
        str, typer.Option(help="The API channel's token.", envvar="KITH_CHANNEL_TOKEN")
    ],
    url: Annotated[str, typer.Option(help="Where Kith runs.")] = "http://127.0.0.1:8000",
    user_id: Annotated[str, typer.Option(help="Your customer id on that channel.")] = "cli-user",
    name: Annotated[str, typer.Option(help="Your display name.")] = "Terminal Customer",
) -> None:
    """Chat with Kith as a customer of an API channel, from the terminal."""
    from kith.web.terminal_chat import run_chat

    try:
        asyncio.run(run_chat(url, channel_id, channel_token, user_id, name))
    except KeyboardInterrupt:
        typer.echo("")


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
