"""The match flow's routers: invite links (before onboarding), the flow, and oversight."""

from aiogram import Router

from flows.match import circle, invites, oversight, search
from flows.match.middleware import CirclesMiddleware


def _with_circles(router: Router) -> Router:
    middleware = CirclesMiddleware()
    router.message.middleware(middleware)
    router.callback_query.middleware(middleware)
    return router


def create_invite_router() -> Router:
    return _with_circles(invites.create_router())


def create_match_router() -> Router:
    router = Router(name=__name__)
    router.include_router(search.create_router())
    router.include_router(circle.create_router())
    return _with_circles(router)


def create_oversight_router() -> Router:
    return _with_circles(oversight.create_router())
