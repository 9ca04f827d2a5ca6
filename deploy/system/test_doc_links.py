"""Unit tests of doc_links.py: which links count, how they resolve, what is reported.

    python3 -m unittest discover -s deploy/system -p 'test_doc_links.py'
"""
import io
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import doc_links  # noqa: E402


class Tree:
    """A throwaway folder of files, removed after the test."""

    def __init__(self, files):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name
        for path, text in files.items():
            full = os.path.join(self.root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as f:
                f.write(text)

    def path(self, relative):
        return os.path.join(self.root, relative)

    def close(self):
        self.dir.cleanup()


class LinksTest(unittest.TestCase):
    def test_inline_image_and_reference_links_are_found_with_their_lines(self):
        text = "see [a](a.md) and ![pic](img/p.png \"title\")\n\n[ref]: docs/b.md\n"
        self.assertEqual(
            list(doc_links.links(text)),
            [(1, "a.md"), (1, "img/p.png"), (3, "docs/b.md")],
        )

    def test_links_in_code_spans_and_fenced_blocks_are_not_links(self):
        text = "`[x](missing.md)`\n```sh\n[y](gone.md)\n```\n[z](here.md)\n"
        self.assertEqual(list(doc_links.links(text)), [(5, "here.md")])

    def test_a_link_whose_text_is_code_is_still_a_link(self):
        self.assertEqual(list(doc_links.links("[`Dockerfile`](../Dockerfile)")), [(1, "../Dockerfile")])

    def test_anchor_follows_github(self):
        self.assertEqual(doc_links.anchor("The compose test, with or without a registry"),
                         "the-compose-test-with-or-without-a-registry")
        self.assertEqual(doc_links.anchor("`services/kit`"), "serviceskit")
        self.assertEqual(doc_links.anchors("# A\n## A\n```\n# not\n```\n"), {"a", "a-1"})


class CheckTest(unittest.TestCase):
    def setUp(self):
        self.tree = Tree({
            "README.md": "# Top\n",
            "docs/guide.md": "# Guide\n## Memory use\n",
            "docs/folder/keep.txt": "",
        })
        self.doc = self.tree.path("README.md")

    def tearDown(self):
        self.tree.close()

    def test_existing_files_folders_and_headings_pass(self):
        for target in ["docs/guide.md", "docs/folder", "docs/guide.md#memory-use",
                       "#top", "./docs/../README.md", "docs/guide.md#Memory-use"]:
            self.assertIsNone(doc_links.check_target(self.doc, target), target)

    def test_external_links_are_not_followed(self):
        for target in ["https://example.invalid/x.md", "mailto:a@b.c", "//cdn.invalid/x"]:
            self.assertIsNone(doc_links.check_target(self.doc, target), target)

    def test_missing_files_and_headings_are_reported(self):
        self.assertEqual(doc_links.check_target(self.doc, "docs/nope.md"), "no such file or folder")
        self.assertEqual(doc_links.check_target(self.doc, "docs/guide.md#cpu"),
                         "no heading with the anchor #cpu")
        self.assertEqual(doc_links.check_target(self.doc, "#bottom"),
                         "no heading with the anchor #bottom")

    def test_links_resolve_from_the_documents_own_folder(self):
        guide = self.tree.path("docs/guide.md")
        self.assertIsNone(doc_links.check_target(guide, "../README.md"))
        self.assertEqual(doc_links.check_target(guide, "README.md"), "no such file or folder")


class MainTest(unittest.TestCase):
    def run_main(self, args):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = doc_links.main(args)
        return code, out.getvalue(), err.getvalue()

    def test_broken_links_fail_with_one_line_each(self):
        tree = Tree({"a/README.md": "ok [x](README.md)\n[y](gone.md) [z](README.md#nowhere)\n"})
        try:
            code, _, err = self.run_main([tree.path("a/README.md")])
        finally:
            tree.close()
        self.assertEqual(code, 1)
        self.assertIn("2 broken link(s)", err)
        self.assertIn(":2: gone.md: no such file or folder", err)
        self.assertIn(":2: README.md#nowhere: no heading with the anchor #nowhere", err)

    def test_a_clean_document_passes(self):
        tree = Tree({"README.md": "# T\n[self](README.md#t)\n"})
        try:
            code, out, err = self.run_main([tree.path("README.md")])
        finally:
            tree.close()
        self.assertEqual((code, err), (0, ""))
        self.assertIn("resolves", out)

    def test_a_missing_document_fails(self):
        code, _, err = self.run_main([os.path.join(tempfile.gettempdir(), "no-such-doc.md")])
        self.assertEqual(code, 1)
        self.assertIn("the document itself is missing", err)

    def test_the_default_set_holds_the_four_documents_and_deploys_readmes(self):
        tree = Tree({"deploy/k8s/README.md": "", "deploy/x/node_modules/y/README.md": ""})
        try:
            found = [os.path.relpath(p, tree.root) for p in doc_links.default_documents(tree.root)]
        finally:
            tree.close()
        self.assertEqual(found, doc_links.DOCUMENTS + ["deploy/k8s/README.md"])

    def test_the_projects_documents_have_no_broken_link(self):
        code, _, err = self.run_main([])
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
