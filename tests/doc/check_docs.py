#!/usr/bin/python3
"""The generated manual pages render without a warning, and every
command's --help is exactly the text the manual's source gives it.

Runs the real binary; the expected texts come from doc/docgen.py itself,
reading doc/alertbridge.8.md, so a help text that drifted from the
manual fails here.
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys


def load_docgen(path):
    spec = importlib.util.spec_from_file_location("docgen", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_page(page, failures):
    groff = shutil.which("groff")
    if not groff:
        failures.append("groff is not installed (Debian: groff-base)")
        return
    run = subprocess.run([groff, "-man", "-ww", "-z", page],
                         capture_output=True, text=True)
    if run.returncode != 0 or run.stderr:
        failures.append("%s: groff -man -ww: %s" % (page, run.stderr.strip()))

    # As a reader sees it, when man-db is there.
    man = shutil.which("man")
    if man:
        env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="")
        run = subprocess.run([man, "--warnings", "-l", page],
                             capture_output=True, text=True, env=env)
        if run.returncode != 0 or run.stderr or not run.stdout.strip():
            failures.append("%s: man -l: %s" % (page, run.stderr.strip()))


def check_help(binary, docgen, source, failures):
    page = docgen.parse_page(source)
    commands = docgen.commands_of(page)
    cases = [([binary, "--help"], docgen.help_overview(page, commands)),
             ([binary, "help"], docgen.help_overview(page, commands))]
    for command in commands:
        text = docgen.help_text(command)
        cases.append(([binary, command.name, "--help"], text))
        cases.append(([binary, "help", command.name], text))

    for argv, want in cases:
        run = subprocess.run(argv, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=30)
        if run.returncode != 0:
            failures.append("%s: exit status %d" % (" ".join(argv[1:]),
                                                   run.returncode))
        elif run.stdout != want:
            failures.append("%s: differs from the manual's text:\n%s\n---\n%s"
                            % (" ".join(argv[1:]), run.stdout, want))
        for line in run.stdout.splitlines():
            if len(line) > 79:
                failures.append("%s: a line longer than 79 columns"
                                % " ".join(argv[1:]))
                break
    return len(cases)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--docgen", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("pages", nargs="+")
    args = ap.parse_args()

    failures = []
    for page in args.pages:
        check_page(page, failures)
    checked = check_help(args.binary, load_docgen(args.docgen), args.source,
                         failures)
    for failure in failures:
        print("FAIL:", failure)
    print("%d passed, %d failed" % (len(args.pages) + checked - len(failures),
                                    len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
