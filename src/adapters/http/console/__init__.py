"""The operator console at /console: server-rendered pages over the operator use cases.

Works without JavaScript and without the internet: the templates and the one stylesheet ship in this
package, and the Content-Security-Policy lets a page load nothing from anywhere else.
"""

from __future__ import annotations

from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import Response, Router, get
from litestar.di import Provide
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from adapters.http.console import alerts, auth, keeping, pages
from adapters.http.console.services import ConsoleServices
from adapters.http.console.session import SessionPolicy
from adapters.http.console.views import human_age
from adapters.shapes import rfc3339
from domain.sizes import human_size

__all__ = ["ConsoleServices", "SessionPolicy", "console_router", "console_templates"]

_CSS = files(__package__).joinpath("static", "console.css").read_bytes()
# Every answer under /console carries these (adapters.http.edge adds them, error pages included).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@get("/static/console.css", include_in_schema=False, opt={"public": True})
async def stylesheet() -> Response[bytes]:
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


def console_templates() -> TemplateConfig[JinjaTemplateEngine]:
    """The console's templates, autoescaped; a name a template gets wrong fails loudly."""
    environment = Environment(
        loader=PackageLoader(__package__, "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
    )
    environment.filters.update(size=human_size, rfc3339=rfc3339, age=human_age)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def console_router(services: ConsoleServices) -> Router:
    def provide() -> ConsoleServices:
        return services

    return Router(
        auth.CONSOLE_PATH,
        include_in_schema=False,
        dependencies={
            "console": Provide(provide, sync_to_thread=False, use_cache=True),
            "session": Provide(auth.current_session, sync_to_thread=False),
            "page": Provide(auth.page_for, sync_to_thread=False),
        },
        guards=[auth.guard(services)],
        exception_handlers=auth.EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        route_handlers=[
            stylesheet,
            auth.sign_in_form,
            auth.sign_in,
            auth.sign_out,
            pages.orgs_page,
            pages.org_page,
            pages.system_page,
            pages.download_page,
            pages.confirm_delete_page,
            pages.delete_backup,
            pages.suspend,
            pages.resume,
            pages.rotate_secret,
            *keeping.ROUTES,
            *alerts.ROUTES,
        ],
    )
