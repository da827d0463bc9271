"""The guide's router: reading, the checklist, documents and the FAQ, in that order.

The FAQ comes last: it answers any text that no other handler took.
"""

from aiogram import Router

from flows.guide import checklist, documents, faq, navigation


def create_router() -> Router:
    router = Router(name=__name__)
    router.include_router(navigation.create_router())
    router.include_router(checklist.create_router())
    router.include_router(documents.create_router())
    router.include_router(faq.create_router())
    return router
