"""Serving the built dashboard (``frontend/dist``) from the API server.

Assets live under ``/assets`` with long cache headers (their names carry content hashes); any other
non-API GET returns ``index.html`` so deep links such as ``/runs/<id>`` load the app, while unknown
``/api/...`` paths stay JSON 404s.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.response import File
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from app.settings import Settings

DEFAULT_DIST = Path(__file__).resolve().parents[1] / "frontend" / "dist"
RESERVED_PREFIXES = ("api/", "hooks/", "schema", "metrics")


def handlers(settings: Settings) -> list[ControllerRouterHandler]:
    dist = settings.frontend_dist or DEFAULT_DIST
    index = dist / "index.html"
    if not index.is_file():
        return []

    @get(["/", "/{path:path}"], include_in_schema=False, sync_to_thread=False)
    def spa_index(path: str = "") -> Response[bytes] | File:
        relative = path.lstrip("/")
        if relative.startswith(RESERVED_PREFIXES):
            raise NotFoundException(f"no route for /{relative}")
        candidate = (dist / relative).resolve()
        if relative and candidate.is_file() and candidate.is_relative_to(dist.resolve()):
            return File(candidate)  # favicon.ico, robots.txt… at the root of dist
        return Response(index.read_bytes(), media_type="text/html",
                        headers={"Cache-Control": "no-cache"})

    assets = create_static_files_router(
        path="/assets", directories=[dist / "assets"], include_in_schema=False,
        cache_control=CacheControlHeader(max_age=31_536_000, public=True),
        name="spa-assets",
    )
    return [spa_index, assets]
