"""The widget's script (with its stylesheet and the channel's settings baked in) and a demo page.

The script and stylesheet are plain hand-written files shipped as package data; nothing is
fetched from a CDN. The settings are embedded as JSON with `<`, `>` and `&` escaped, so a
title can never end the script or inject markup.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import HTMLResponse

from kith.connectors.base import current_core
from kith.connectors.webchat.config import WebchatConfig
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.models import Channel

router = APIRouter(tags=["web chat"])
BOOT_MARK = "/*KITH_BOOT*/null"


@lru_cache(maxsize=4)
def _static(name: str) -> str:
    return resources.files("kith.connectors.webchat").joinpath("static", name).read_text("utf-8")


def _js_json(value: object) -> str:
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def configured_base(core: Core) -> str | None:
    """`KITH_PUBLIC_URL`, the one base URL put in what is served.

    Never the request's `Host`: the script is cached publicly (by browsers, CDNs, proxies),
    so one request with a forged Host would point every visitor's widget elsewhere. Without
    the setting the script finds its base from its own URL, and the demo page links it
    relatively.
    """
    return (core.settings.public_url or "").rstrip("/") or None


async def _widget_channel(core: Core, channel_id: str) -> Channel:
    channel = await get_channel(core, None, channel_id)
    if channel.type != "webchat" or not channel.enabled:
        raise NotFound("no such web chat", field="channel_id")
    return channel


@router.get("/widget/{channel_id}.js", include_in_schema=False)
async def widget_script(channel_id: str, core: Annotated[Core, Depends(current_core)]) -> Response:
    """The script a business embeds: `<script src=".../widget/{id}.js" async></script>`."""
    channel = await _widget_channel(core, channel_id)
    settings = channel.settings_as(WebchatConfig)
    boot = {
        "channel": channel.id,
        "base": configured_base(core),
        "title": settings.title or channel.name,
        "greeting": settings.greeting,
        "greeting_zh": settings.greeting_zh,
        "color": settings.color,
        "css": _static("widget.css"),
    }
    script = _static("widget.js").replace(BOOT_MARK, _js_json(boot), 1)
    return Response(
        script,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


DEMO_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Northwind Tea — loose-leaf tea shop</title>
<style>
  body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1f2a24; background: #f6f3ec; }}
  header {{ background: #2f5d46; color: #fff; padding: 1.2rem 2rem; }}
  header h1 {{ margin: 0; font-size: 1.6rem; }}
  main {{ max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
  .grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
           gap: 1rem; }}
  .card {{ background: #fff; border-radius: 10px; padding: 1rem 1.2rem;
           box-shadow: 0 1px 3px rgba(0,0,0,.08); }}
  .price {{ font-weight: 600; color: #2f5d46; }}
  .note {{ color: #5b6660; font-size: .9rem; }}
</style>
</head>
<body>
<header><h1>Northwind Tea</h1><p>Small-batch loose-leaf tea, shipped fresh.</p></header>
<main>
  <p class="note">A sample shop page for the <strong>{name}</strong> chat. Questions about an
  order? Use the chat button in the corner.</p>
  <div class="grid">
    <div class="card"><h2>Dragon Well</h2><p>Pan-fired green tea from Hangzhou.</p>
      <p class="price">$14 / 50 g</p></div>
    <div class="card"><h2>Assam Breakfast</h2><p>Malty, bold, made for milk.</p>
      <p class="price">$9 / 100 g</p></div>
    <div class="card"><h2>Tieguanyin</h2><p>Floral oolong, rolled by hand.</p>
      <p class="price">$18 / 50 g</p></div>
  </div>
</main>
<script src="{script}" async></script>
</body>
</html>
"""


@router.get("/demo/widget/{channel_id}", response_class=HTMLResponse, include_in_schema=False)
async def demo_page(channel_id: str, core: Annotated[Core, Depends(current_core)]) -> HTMLResponse:
    """A fictional shop embedding the widget, as a business's own page would."""
    channel = await _widget_channel(core, channel_id)
    script = f"{configured_base(core) or ''}/widget/{channel.id}.js"
    page = DEMO_PAGE.format(name=html.escape(channel.name), script=html.escape(script))
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
