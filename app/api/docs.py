"""The OpenAPI page at /docs, served with its own Swagger UI files (no CDN).

FastAPI's default page loads Swagger UI from a CDN, so /docs was blank on a host without
internet (most scoring hosts). The fastapi-offline package ships the Swagger UI 5 bundle
(OpenAPI 3.1, which FastAPI writes, needs 5.x); only its files are used, served here.
"""

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"  # under /docs: open without an API key, as the page is


def mount_docs(app: FastAPI) -> None:
    """Serve /docs from local Swagger UI files (create the app with ``docs_url=None``)."""
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS_URL, StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )
