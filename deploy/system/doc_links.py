#!/usr/bin/env python3
"""Checks that the project's documents link only to files and headings that exist.

    python3 deploy/system/doc_links.py            the front door, the architecture, the
                                                  benchmarks and every README under deploy/
    python3 deploy/system/doc_links.py FILE...    those Markdown files instead

Every relative link, inline (`[text](path)`, `![alt](path)`) or by reference
(`[name]: path`), must name a file or folder that exists, resolved from the document's
own folder; a `#fragment` must name a heading of the target Markdown file (GitHub's
anchors: lower case, punctuation dropped, spaces as hyphens). Links with a scheme
(`https:`, `mailto:`) are not followed, and code spans and fenced blocks are not read.
Exits 1 with one line per broken link, `file:line: target: why`. Standard library only.
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# The documents checked when no file is named: these four and every README under deploy/.
DOCUMENTS = ["README.md", "services/README.md", "bench/README.md", "deploy/README.md"]

INLINE = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
CODE_SPAN = re.compile(r"(`+).+?\1")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")


def default_documents(root=ROOT):
    """The four documents plus every README.md under deploy/, in a stable order."""
    found = [os.path.join(root, doc) for doc in DOCUMENTS]
    for folder, dirs, files in os.walk(os.path.join(root, "deploy")):
        dirs[:] = sorted(d for d in dirs if d not in ("node_modules", ".git"))
        for name in sorted(files):
            path = os.path.join(folder, name)
            if name == "README.md" and path not in found:
                found.append(path)
    return found


def prose_lines(text):
    """(line number, line) of the lines outside fenced code blocks, code spans blanked."""
    fenced = None
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if fence:
            if fenced is None:
                fenced = fence.group(1)
            elif fence.group(1) == fenced:
                fenced = None
            continue
        if fenced is None:
            yield number, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


def links(text):
    """(line number, target) of every link in a Markdown text, in order."""
    for number, line in prose_lines(text):
        reference = REFERENCE.match(line)
        if reference:
            yield number, reference.group(1)
            continue
        for match in INLINE.finditer(line):
            yield number, match.group(1)


def anchor(heading):
    """GitHub's anchor of a heading: lower case, markup and punctuation dropped, spaces
    as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text):
    """Every anchor the headings of a Markdown text define, with GitHub's -1, -2 suffixes
    for repeated headings."""
    seen = {}
    result = set()
    for _, line in prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        base = anchor(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def check_target(document, target):
    """Why a link target of `document` is broken, or None when it is fine."""
    if SCHEME.match(target) or target.startswith("//"):
        return None
    path, _, fragment = target.partition("#")
    path = path.split("?", 1)[0]
    if path:
        resolved = os.path.normpath(os.path.join(os.path.dirname(document), path))
        if not os.path.exists(resolved):
            return "no such file or folder"
    else:
        resolved = document
    if fragment and resolved.endswith(".md") and os.path.isfile(resolved):
        with open(resolved, encoding="utf-8") as f:
            if fragment.lower() not in anchors(f.read()):
                return f"no heading with the anchor #{fragment}"
    return None


def broken_links(document):
    """(line number, target, why) of every broken link of one document."""
    with open(document, encoding="utf-8") as f:
        text = f.read()
    found = []
    for number, target in links(text):
        why = check_target(document, target)
        if why:
            found.append((number, target, why))
    return found


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    documents = [os.path.abspath(a) for a in argv] or default_documents()
    problems = []
    for document in documents:
        shown = os.path.relpath(document, ROOT)
        if not os.path.isfile(document):
            problems.append(f"{shown}: the document itself is missing")
            continue
        for number, target, why in broken_links(document):
            problems.append(f"{shown}:{number}: {target}: {why}")
    if problems:
        print(f"doc_links: {len(problems)} broken link(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"doc_links: every link of {len(documents)} document(s) resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
