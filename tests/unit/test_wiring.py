"""One composition root: the container builds every service, and the HTTP edge offers each member of
its Protocol as a dependency without a list of its own."""

from __future__ import annotations

from dataclasses import replace

from adapters.http.services import API_SERVICES
from app.asgi import app_for
from app.composition import Overrides, build
from tests.unit.fakes import World


def test_every_member_of_the_http_protocol_is_offered_to_the_handlers_by_its_name() -> None:
    app = app_for(World().services)
    assert {"ingest", "access", "operator_access", "system_states", "gate", "metrics"} <= set(API_SERVICES)
    assert set(API_SERVICES) <= set(app.dependencies)


def test_the_container_builds_the_upload_gate_from_the_settings() -> None:
    world = World()
    settings = replace(world.services.settings, max_uploads_per_system=5)
    gate = build(settings, same_world(world)).gate
    assert (gate.per_system, gate.idle_seconds) == (5, settings.body_idle_timeout.total_seconds())


def test_the_console_is_built_only_when_an_admin_token_turns_it_on() -> None:
    world = World()
    assert world.services.console is None
    settings = replace(world.services.settings, admin_token="an-admin-token-of-forty-characters-00000")
    built = build(settings, same_world(world))
    console = built.console
    assert console is not None
    assert console.admin_token == "an-admin-token-of-forty-characters-00000"
    assert built.console is console  # built once


def same_world(world: World) -> Overrides:
    return Overrides(
        directory=world.directory,
        catalog=world.catalog,
        maintenance=world.maintenance,
        objects=world.objects,
        limiter=world.limiter,
        clock=world.clock,
    )
