"""Helpers and settings shared by this folder's test modules."""

import shutil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


# Hostile text in every kind of field: words (tokenised), speakers, labels and
# titles (written as they are). Run as script or markup, each would mark <body>.
SCRIPT = "<script>document.body.dataset.owned = 1</script>"


IMAGE = "<img src=x onerror=\"document.body.dataset.owned = 1\">"


TITLES = (f"{SCRIPT}HAN-ROCK", f"flat {IMAGE}")


LONG_WORD = "pneumonoultramicroscopicsilicovolcanoconiosis"


# The only elements the page itself writes; user text must never add one.
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "div", "span",
             "b", "table", "caption", "tr", "td", "tbody"}

