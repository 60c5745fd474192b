"""The portal's web app (Starlette, Jinja templates, no JavaScript). Security in one place:

- sessions are server-side records (ops.portal_sessions); the cookie holds a random id signed with
  NJIA_PORTAL_SECRET, HttpOnly, SameSite=Lax, Secure (and `__Host-`) behind TLS; a new id at every sign-in;
- every form carries a CSRF token: the session's own once signed in, else one bound to a signed cookie;
- sign-in is rate-limited per account and per address in PostgreSQL, so the limit holds across workers;
- every response has a strict CSP (no script at all, nothing from another origin) and no-store caching;
- request bodies are bounded: an upload by NJIA_MAX_FILE_BYTES, any other form by a few kilobytes;
- every query about files is filtered by the session's organisation: another organisation's ids are 404.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import hmac
import importlib
import logging
import secrets
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ingest import contract
from ingest import feedback as ingest_feedback
from njia.portal import accounts, files
from njia.portal.text import LANGS, STATUS_LABELS, size_label, t
from njia.settings import Settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FORM_LIMIT = 64 * 1024  # bytes of any form but an upload
MULTIPART_OVERHEAD = 64 * 1024  # an upload's form around the file's bytes
SHOWN_PROBLEMS = 500  # problems listed on the page; the CSV download has them all
LANG_COOKIE = "njia_lang"
FORM_COOKIE = "njia_form"


class BodyTooLarge(Exception):
    pass


class _Limits:
    """ASGI middleware: security headers on every response, and a bound on every request body (by the
    announced length at once, and by counting what arrives, for a body sent without a length)."""

    def __init__(self, app, settings: Settings) -> None:  # an ASGI app
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_file_bytes + MULTIPART_OVERHEAD if scope["path"] == "/upload" else FORM_LIMIT
        headers = dict(scope.get("headers") or [])
        announced = headers.get(b"content-length", b"").decode("latin-1").strip()
        if announced.isdigit() and int(announced) > limit:
            scope = {**scope, "njia.too_large": True}
        seen = 0

        async def bounded_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        secure = self.settings.portal_secure_cookies

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if not scope["path"].startswith("/static/"):
                    extra.append((b"cache-control", b"no-store"))
                if secure:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, bounded_receive, send_with_headers)


class Portal:
    """The app's state: settings, templates, and one thread that processes uploads one at a time (ingest
    runs the file in this process; several portal processes may each process one file at once, which the
    ledger's locks allow)."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.portal_secret.get_secret_value() if settings.portal_secret else ""
        if len(secret) < 32:
            raise files.PortalConfigError(
                "NJIA_PORTAL_SECRET must be set to a random value of at least 32 characters (it signs the "
                'portal\'s cookies); create one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        files.inbox_root(settings)  # refuses an inbox the portal cannot write into
        if not accounts.tables_ready(settings):
            raise files.PortalConfigError("the warehouse has no portal tables yet: run `njia init`")
        self.settings = settings
        self.key = hashlib.sha256(b"njia-portal-cookie:" + secret.encode()).digest()
        self.secure = settings.portal_secure_cookies
        self.session_cookie = "__Host-njia_session" if self.secure else "njia_session"
        self.env = Environment(loader=PackageLoader("njia.portal", "templates"), autoescape=select_autoescape(["html"]))
        self.worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="njia-portal-ingest")
        self.templates_xlsx: dict[str, bytes] = {}
        self.worker.submit(importlib.import_module, "ingest.pipeline")  # so the first upload waits less

    # --- cookies, sessions, CSRF ---------------------------------------------------------------------

    def sign(self, value: str) -> str:
        mac = hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()
        return f"{value}.{mac}"

    def unsign(self, signed: str | None) -> str | None:
        if not signed or "." not in signed:
            return None
        value, _, mac = signed.rpartition(".")
        good = hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()
        return value if hmac.compare_digest(mac, good) else None

    def cookie(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=self.secure)

    def current(self, request: Request) -> accounts.Session | None:
        session_id = self.unsign(request.cookies.get(self.session_cookie))
        return accounts.session(self.settings, session_id) if session_id else None

    def form_token(self, request: Request) -> tuple[str, str | None]:
        """A CSRF token for a form shown before sign-in: bound to the signed form cookie (a new cookie
        value is returned to set when there is none yet)."""
        value = self.unsign(request.cookies.get(FORM_COOKIE))
        fresh = None
        if value is None:
            value = secrets.token_urlsafe(24)
            fresh = self.sign(value)
        return hmac.new(self.key, b"form:" + value.encode(), hashlib.sha256).hexdigest(), fresh

    def form_token_ok(self, request: Request, token: str) -> bool:
        value = self.unsign(request.cookies.get(FORM_COOKIE))
        if value is None or not token:
            return False
        good = hmac.new(self.key, b"form:" + value.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(good, token)

    # --- pages -------------------------------------------------------------------------------------

    def lang(self, request: Request) -> str:
        asked = request.query_params.get("lang")
        if asked in LANGS:
            return asked
        if request.cookies.get(LANG_COOKIE) in LANGS:
            return request.cookies[LANG_COOKIE]
        accept = request.headers.get("accept-language", "").lower()
        return "sw" if accept.startswith("sw") else "en"

    def page(
        self,
        request: Request,
        template: str,
        status_code: int = 200,
        *,
        session: accounts.Session | None = None,
        **context: object,
    ) -> HTMLResponse:
        lang = self.lang(request)
        other = "sw" if lang == "en" else "en"
        html = self.env.get_template(template).render(
            lang=lang,
            t=lambda key, **kw: t(key, lang, **kw),
            session=session,
            request=request,
            both=both,
            switch_url=f"{request.url.path}?{urlencode({**request.query_params, 'lang': other})}",
            other_lang=other,
            status_label=lambda code: t(code, lang) if code in STATUS_LABELS else code,
            message=lambda code: ingest_feedback.message(code, lang),
            **context,
        )
        response = HTMLResponse(html, status_code=status_code)
        if request.query_params.get("lang") in LANGS:
            self.cookie(response, LANG_COOKIE, lang, max_age=365 * 86400)
        return response

    def ip(self, request: Request) -> str:
        return request.client.host if request.client else "unknown"


def both(key: str) -> str:
    """A form label in both languages (English first): whoever reads the form can fill it in."""
    en, sw = t(key, "en"), t(key, "sw")
    return en if en == sw else f"{en} / {sw}"


def _error(portal: Portal, request: Request, status_code: int, title: str, text: str) -> HTMLResponse:
    return portal.page(request, "message.html", status_code, session=None, title=title, text=text)


def create_app(settings: Settings) -> Starlette:
    """The portal for these settings; refuses to start without NJIA_PORTAL_SECRET (files.PortalConfigError)."""
    portal = Portal(settings)

    async def require(request: Request) -> accounts.Session:
        session = await run_in_threadpool(portal.current, request)
        if session is None:
            raise HTTPException(303, headers={"location": "/signin"})
        return session

    def csrf_ok(session: accounts.Session, form) -> bool:
        token = form.get("csrf")
        return isinstance(token, str) and accounts.same(token, session.csrf_token)

    def forbidden(request: Request) -> HTMLResponse:
        lang = portal.lang(request)
        return _error(portal, request, 403, t("forbidden", lang), t("forbidden_text", lang))

    async def small_form(request: Request):
        if request.scope.get("njia.too_large"):
            raise HTTPException(413)
        try:
            return await request.form(max_files=0, max_fields=8)
        except (BodyTooLarge, MultiPartException) as exc:
            raise HTTPException(413) from exc

    # -- signing in and out --

    async def home(request: Request) -> Response:
        signed_in = await run_in_threadpool(portal.current, request)
        return RedirectResponse("/files" if signed_in else "/signin", 303)

    def signin_page(
        request: Request, error: str | None = None, status_code: int = 200, email: str = ""
    ) -> HTMLResponse:
        token, fresh = portal.form_token(request)
        notice = "password_set" if request.query_params.get("password") == "set" else None
        response = portal.page(request, "signin.html", status_code, csrf=token, error=error, email=email, notice=notice)
        if fresh:
            portal.cookie(response, FORM_COOKIE, fresh)
        return response

    async def signin(request: Request) -> Response:
        if request.method == "GET":
            if await run_in_threadpool(portal.current, request):
                return RedirectResponse("/files", 303)
            return signin_page(request)
        form = await small_form(request)
        if not portal.form_token_ok(request, str(form.get("csrf") or "")):
            return forbidden(request)
        email, password = str(form.get("email") or ""), str(form.get("password") or "")
        result = await run_in_threadpool(accounts.sign_in, settings, email, password, portal.ip(request))
        if isinstance(result, str):
            return signin_page(request, result, 429 if result == "rate_limited" else 401, email=email[:254])
        session_id, _ = result
        old = portal.unsign(request.cookies.get(portal.session_cookie))
        if old:  # whatever session id the browser held before is never the new one, and ends now
            await run_in_threadpool(accounts.sign_out, settings, old, portal.ip(request))
        response = RedirectResponse("/files", 303)
        portal.cookie(
            response, portal.session_cookie, portal.sign(session_id), max_age=settings.portal_session_minutes * 60
        )
        response.delete_cookie(FORM_COOKIE, path="/")
        return response

    async def signout(request: Request) -> Response:
        session = await require(request)
        form = await small_form(request)
        if not csrf_ok(session, form):
            return forbidden(request)
        session_id = portal.unsign(request.cookies.get(portal.session_cookie))
        await run_in_threadpool(accounts.sign_out, settings, session_id, portal.ip(request))
        response = RedirectResponse("/signin", 303)
        response.delete_cookie(portal.session_cookie, path="/", secure=portal.secure, httponly=True)
        return response

    async def password(request: Request) -> Response:
        token = request.path_params["token"]
        lang = portal.lang(request)
        user = await run_in_threadpool(accounts.link_user, settings, token)
        if user is None:
            return _error(portal, request, 404, t("password_title", lang), t("link_invalid", lang))
        form_token, fresh = portal.form_token(request)
        error = None
        if request.method == "POST":
            form = await small_form(request)
            if not portal.form_token_ok(request, str(form.get("csrf") or "")):
                return forbidden(request)
            new, again = str(form.get("password") or ""), str(form.get("password2") or "")
            error = accounts.password_problem(new) or (None if new == again else "mismatch")
            if error is None:
                done = await run_in_threadpool(accounts.set_password, settings, token, new, portal.ip(request))
                if done is None:
                    return _error(portal, request, 404, t("password_title", lang), t("link_invalid", lang))
                return RedirectResponse("/signin?password=set", 303)
        response = portal.page(
            request, "password.html", 400 if error else 200, csrf=form_token, error=error, email=user.email
        )
        if fresh:
            portal.cookie(response, FORM_COOKIE, fresh)
        return response

    # -- files --

    async def upload(request: Request) -> Response:
        session = await require(request)
        limit = size_label(settings.max_file_bytes)
        if request.method == "GET":
            return portal.page(request, "upload.html", session=session, size=limit)

        def refused(code: str, status_code: int = 400) -> HTMLResponse:
            accounts.record(settings, "upload", False, session.user, portal.ip(request), code)
            return portal.page(
                request,
                "upload.html",
                status_code,
                session=session,
                size=limit,
                error=t(code, portal.lang(request), size=limit),
            )

        if request.scope.get("njia.too_large"):
            return await run_in_threadpool(refused, "too_large", 413)
        try:
            form = await request.form(max_files=1, max_fields=4)
        except BodyTooLarge:
            return await run_in_threadpool(refused, "too_large", 413)
        except MultiPartException:
            return await run_in_threadpool(refused, "no_file")
        try:
            if not csrf_ok(session, form):
                return forbidden(request)
            sent = form.get("file")
            if not isinstance(sent, UploadFile) or not sent.filename:
                return await run_in_threadpool(refused, "no_file")
            org = session.user.organisation_code
            try:
                saved = await run_in_threadpool(files.save_upload, settings, org, sent.filename, sent.file)
            except files.UploadRefused as exc:
                return await run_in_threadpool(refused, exc.code, 413 if exc.code == "too_large" else 400)
        finally:
            await form.close()
        upload_id = await run_in_threadpool(files.record_upload, settings, org, session.user.user_id, saved)
        await run_in_threadpool(
            accounts.record,
            settings,
            "upload",
            True,
            session.user,
            portal.ip(request),
            f"{saved.path.name} ({saved.size_bytes} bytes, sha256 {saved.sha256[:12]})",
        )
        job = portal.worker.submit(_process, settings, saved.path, upload_id)
        # Wait without cancelling: a file queued behind another upload is still processed after the timeout,
        # and its page says it is being checked until then.
        await asyncio.wait([asyncio.wrap_future(job)], timeout=settings.portal_wait_seconds)
        return RedirectResponse(f"/uploads/{upload_id}", 303)

    async def upload_state(request: Request) -> Response:
        session = await require(request)
        found = await run_in_threadpool(
            files.upload, settings, session.user.organisation_code, request.path_params["upload_id"]
        )
        if found is None:
            raise HTTPException(404)
        if found["submission_id"] is not None:
            return RedirectResponse(f"/files/{found['submission_id']}", 303)
        return portal.page(request, "processing.html", session=session, upload=found)

    async def history(request: Request) -> Response:
        session = await require(request)
        rows = await run_in_threadpool(files.history, settings, session.user.organisation_code)
        return portal.page(request, "files.html", session=session, files=rows)

    async def one_file(request: Request) -> Response:
        session = await require(request)
        found = await run_in_threadpool(
            files.history, settings, session.user.organisation_code, request.path_params["submission_id"]
        )
        if not found:
            raise HTTPException(404)
        ledger = found[0]
        items = await run_in_threadpool(files.feedback_items, settings, ledger)
        problems = [i for i in items if i.get("item") == "problem"]
        return portal.page(
            request,
            "file.html",
            session=session,
            f=ledger,
            items=items,
            problems=problems[:SHOWN_PROBLEMS],
            more=max(len(problems) - SHOWN_PROBLEMS, 0),
            has_csv=files.feedback_csv(ledger) is not None,
        )

    async def feedback_download(request: Request) -> Response:
        session = await require(request)
        found = await run_in_threadpool(
            files.history, settings, session.user.organisation_code, request.path_params["submission_id"]
        )
        path = files.feedback_csv(found[0]) if found else None
        if path is None:
            raise HTTPException(404)
        await run_in_threadpool(
            accounts.record,
            settings,
            "download",
            True,
            session.user,
            portal.ip(request),
            f"feedback {found[0]['submission_id']}",
        )
        return Response(
            path.read_bytes(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{_ascii(path.name)}"'},
        )

    async def downloads(request: Request) -> Response:
        session = await require(request)
        return portal.page(request, "downloads.html", session=session)

    async def template_download(request: Request) -> Response:
        session = await require(request)
        lang = request.path_params["lang"]
        if lang not in LANGS:
            raise HTTPException(404)
        if lang not in portal.templates_xlsx:
            portal.templates_xlsx[lang] = await run_in_threadpool(_template_bytes, lang)
        await run_in_threadpool(
            accounts.record, settings, "download", True, session.user, portal.ip(request), f"template {lang}"
        )
        return Response(
            portal.templates_xlsx[lang],
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"content-disposition": f'attachment; filename="njia-template-{lang}.xlsx"'},
        )

    def contract_context() -> dict[str, object]:
        return {
            "columns": contract.COLUMNS,
            "statuses": contract.STATUSES,
            "reasons": contract.FILE_REASONS,
            "row_problems": contract.ROW_PROBLEMS,
            "version": contract.CONTRACT_VERSION,
        }

    async def contract_page(request: Request) -> Response:
        session = await require(request)
        return portal.page(request, "contract.html", session=session, **contract_context())

    async def contract_download(request: Request) -> Response:
        session = await require(request)
        lang = request.path_params["lang"]
        if lang not in LANGS:
            raise HTTPException(404)
        html = portal.env.get_template("contract_file.html").render(
            lang=lang,
            t=lambda key, **kw: t(key, lang, **kw),
            message=lambda code: ingest_feedback.message(code, lang),
            css=(STATIC_DIR / "portal.css").read_text(encoding="utf-8"),
            **contract_context(),
        )
        await run_in_threadpool(
            accounts.record, settings, "download", True, session.user, portal.ip(request), f"contract {lang}"
        )
        return Response(
            html,
            media_type="text/html; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="njia-contract-{lang}.html"'},
        )

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code in (301, 302, 303, 307) and exc.headers:
            return RedirectResponse(exc.headers["location"], exc.status_code)
        lang = portal.lang(request)
        if exc.status_code == 413:
            return _error(portal, request, 413, t("refused", lang), t("too_large", lang, size=size_label(FORM_LIMIT)))
        if exc.status_code == 405:
            return _error(portal, request, 405, t("not_found", lang), t("not_found_text", lang))
        return _error(portal, request, 404, t("not_found", lang), t("not_found_text", lang))

    routes = [
        Route("/", home),
        Route("/signin", signin, methods=["GET", "POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/password/{token}", password, methods=["GET", "POST"]),
        Route("/upload", upload, methods=["GET", "POST"]),
        Route("/uploads/{upload_id:int}", upload_state),
        Route("/files", history),
        Route("/files/{submission_id:int}", one_file),
        Route("/files/{submission_id:int}/feedback.csv", feedback_download),
        Route("/downloads", downloads),
        Route("/downloads/template-{lang}.xlsx", template_download),
        Route("/contract", contract_page),
        Route("/downloads/contract-{lang}.html", contract_download),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.portal = portal
    app.add_middleware(_Limits, settings=settings)
    return app


def _process(settings: Settings, path: Path, upload_id: int) -> None:
    """Runs in the portal's worker thread. A failure leaves the file in the inbox for the scheduled run and
    an error id on the upload, which the page shows."""
    try:
        files.process(settings, path)
    except Exception:  # logged with its id; the file stays for the DAG
        error_id = uuid.uuid4().hex[:12]
        log.exception(
            "portal: processing %s failed (error id %s); the scheduled ingest will pick it up", path, error_id
        )
        files.upload_failed(settings, upload_id, error_id)


def _template_bytes(lang: str) -> bytes:
    from njia.template import write_template

    with tempfile.TemporaryDirectory() as tmp:
        return write_template(Path(tmp) / f"template-{lang}.xlsx", lang).read_bytes()


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)


def from_environment() -> Starlette:
    """The app from NJIA_* settings: what `njia portal serve` gives uvicorn (once per worker process)."""
    from njia.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return create_app(get_settings())
