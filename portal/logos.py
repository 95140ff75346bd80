"""The merchant's logo: checked and normalised before it is stored.

An upload is read with Pillow (a maintained decoder; no SVG, which can carry scripts) and
re-encoded as a small PNG: what is stored and later shown in the portal header, embedded in
boleto emails and printed on the recibo do pagador is always an image the portal made itself,
never the uploaded bytes (no polyglot files, no metadata, bounded size)."""

import hashlib
import io
import warnings

from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

LOGO_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 25_000_000  # a 5000 x 5000 image; beyond it Pillow's bomb check refuses
LOGO_BOX = (600, 200)  # stored size at most, aspect ratio kept
LOGO_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})

LOGO_TOO_BIG = _("O logotipo deve ter no máximo 2 MB.")
LOGO_NOT_AN_IMAGE = _("O arquivo enviado não é uma imagem válida (use PNG, JPEG, GIF ou WebP).")
LOGO_FORMAT_REFUSED = _("Formato de imagem não aceito: use PNG, JPEG, GIF ou WebP.")
LOGO_TOO_MANY_PIXELS = _("A imagem é grande demais (no máximo 5000 × 5000 pixels).")
LOGO_EMPTY = _("Escolha um arquivo de imagem.")


class LogoError(ValueError):
    """An upload that cannot be a logo; str() is the message for the merchant (pt-BR)."""


def logo_normalize(data: bytes) -> bytes:
    """The PNG to store for an uploaded image, or LogoError."""
    if not data:
        raise LogoError(LOGO_EMPTY)
    if len(data) > LOGO_MAX_UPLOAD_BYTES:
        raise LogoError(LOGO_TOO_BIG)
    try:
        with warnings.catch_warnings():
            # A decompression bomb warns first (between MAX_IMAGE_PIXELS and twice it): refuse.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in LOGO_FORMATS:
                    raise LogoError(LOGO_FORMAT_REFUSED)
                if probe.width * probe.height > LOGO_MAX_PIXELS:
                    raise LogoError(LOGO_TOO_MANY_PIXELS)
                probe.verify()  # structure and checksums, without decoding the pixels
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = image.convert("RGBA")
    except LogoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise LogoError(LOGO_TOO_MANY_PIXELS) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise LogoError(LOGO_NOT_AN_IMAGE) from exc
    image.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def logo_name(png: bytes, *, merchant_id: int) -> str:
    """The stored name: one per merchant and content, never reused for other bytes."""
    return f"logos/{merchant_id}-{hashlib.sha256(png).hexdigest()[:16]}.png"
