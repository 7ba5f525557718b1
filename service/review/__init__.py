"""The review workspace: a server-rendered web page (Jinja2 + plain JavaScript modules, every asset
served by the app) where a reviewer settles what reading and checking left open."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def mount_review(app: FastAPI) -> set[str]:
    """Add the page, its JSON endpoints, its static files and its security headers to ``app``;
    return the upload paths that need the upload size limit instead of the JSON one."""
    from service.review import page_api, pages
    from service.review.web import PACKAGE_DIR, ReviewSecurityHeaders

    app.include_router(pages.router)
    app.include_router(page_api.router)
    app.mount("/review/static", StaticFiles(directory=str(PACKAGE_DIR / "static")), name="review-static")
    app.add_middleware(ReviewSecurityHeaders)
    return {page_api.UPLOAD_PATH}
