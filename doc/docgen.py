#!/usr/bin/python3
"""Makes alertbridge's manual pages, --help texts and bash completion.

One source per fact:
  doc/alertbridge.8.md        the command reference: alertbridge(8), the
                              --help text of every command (a C header)
                              and the options the completion offers;
  config/alertbridge.yaml     the configuration reference, from its
                              comments: the body of alertbridge.yaml(5);
  doc/alertbridge.yaml.5.md   the frame around it (name, files, see also).

The Markdown is a small subset:
  # NAME SECTION - summary    the first line: the page's name
  ## HEADING                  a section (COMMANDS holds the commands)
  ### command - summary       a command, with its --help text below
  four-space indented lines   a literal block; a command's first one is
                              its usage
  - TERM: text                a list item (continued by lines indented
                              two spaces); a TERM starting with "-" is an
                              option, and "*WORD*" after it its argument
  Label:                      a one-line paragraph ending in a colon
  @config-reference           (alertbridge.yaml.5.md) the reference
                              made from config/alertbridge.yaml
  <!-- ... -->                left out
  any other lines             a paragraph, up to a blank line, a literal
                              block or a list
These are errors: a first line of another form, text before the first
section, any other heading ("#" at the start of a line), a command
outside COMMANDS or not in the form above, a list item whose TERM is
not in `backticks` or *asterisks*; in the command reference, no
COMMANDS section, and for the --help texts no command or no SYNOPSIS
that starts with a literal block.

Inline: `code` is bold in the manual, *word* italic; both read plain in
--help. An option's text starting "one of `a`, `b`" gives the words the
completion offers for its argument; *FILE* completes files, *DIR*
directories.

The configuration's comments: each block that starts at column 0 after
a blank line is a subsection named by the top-level keys it sets (or
shows commented out); its leading comment is the prose (lines indented
after "#" stay as they are), and the block itself is shown as its
example.
"""

import argparse
import re
import sys
import textwrap

HELP_WIDTH = 78


class DocError(Exception):
    pass


# -- parsing the Markdown subset --------------------------------------


class Block:
    def __init__(self, kind, lines=None, items=None, text=""):
        self.kind = kind  # para, code, list, label, reference
        self.lines = lines or []
        self.items = items or []  # (term, text) for lists
        self.text = text


class Command:
    def __init__(self, name, summary):
        self.name = name
        self.summary = summary
        self.blocks = []


class Page:
    def __init__(self, name, section, summary):
        self.name = name
        self.section = section
        self.summary = summary
        self.sections = []  # (heading, blocks, commands)


def strip_comments(text):
    return re.sub(r"<!--.*?-->\n?", "", text, flags=re.S)


def parse_blocks(lines, where):
    """Blocks from the lines between two headings."""
    blocks = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if line.startswith("    "):
            code = []
            while i < len(lines) and (lines[i].startswith("    ")
                                      or not lines[i].strip()):
                code.append(lines[i][4:])
                i += 1
            while code and not code[-1].strip():
                code.pop()
            blocks.append(Block("code", lines=code))
            continue
        if line.startswith("- "):
            items = []
            while i < len(lines) and (lines[i].startswith("- ")
                                      or lines[i].startswith("  ")):
                if lines[i].startswith("- "):
                    items.append(lines[i][2:].strip())
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            parsed = []
            for item in items:
                m = re.match(r"^(.+?): (.+)$", item)
                if not m or not m.group(1).startswith(("`", "*")):
                    raise DocError("%s: list item without a term: %s"
                                   % (where, item))
                parsed.append((m.group(1), m.group(2)))
            blocks.append(Block("list", items=parsed))
            continue
        if line.strip() == "@config-reference":
            blocks.append(Block("reference"))
            i += 1
            continue
        para = []
        while i < len(lines) and lines[i].strip() and not (
                lines[i].startswith("    ") or lines[i].startswith("- ")):
            para.append(lines[i].strip())
            i += 1
        text = " ".join(para)
        if len(para) == 1 and text.endswith(":"):
            blocks.append(Block("label", text=text))
        else:
            blocks.append(Block("para", text=text))
    return blocks


def parse_page(path):
    with open(path, encoding="utf-8") as f:
        text = strip_comments(f.read())
    lines = text.split("\n")
    m = re.match(r"^# (\S+) (\d) - (.+)$", lines[0])
    if not m:
        raise DocError("%s:1: expected '# NAME SECTION - summary'" % path)
    page = Page(m.group(1), m.group(2), m.group(3))

    heading = None
    command = None
    body = []

    def flush():
        if heading is None:
            if any(line.strip() for line in body):
                raise DocError("%s: text before the first section" % path)
            return
        blocks = parse_blocks(body, "%s: %s" % (path, heading))
        if command is not None:
            command.blocks = blocks
        else:
            page.sections.append([heading, blocks, []])

    for number, line in enumerate(lines[1:], start=2):
        if line.startswith("## "):
            flush()
            heading, command, body = line[3:].strip(), None, []
        elif line.startswith("### "):
            flush()
            m = re.match(r"^### (\S+) - (.+)$", line)
            if not m or heading != "COMMANDS":
                raise DocError("%s:%d: a command is '### name - summary'"
                               " under COMMANDS" % (path, number))
            if not page.sections or page.sections[-1][0] != "COMMANDS":
                page.sections.append(["COMMANDS", [], []])
            command = Command(m.group(1), m.group(2))
            page.sections[-1][2].append(command)
            body = []
        elif line.startswith("#") and not line.startswith("#!"):
            raise DocError("%s:%d: unknown heading" % (path, number))
        else:
            body.append(line)
    flush()
    return page


# -- roff ---------------------------------------------------------------


def roff_escape(text, code=False):
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\e")
        elif ch == "-" and code:
            out.append("\\-")
        elif ch == "\u2014":
            out.append("\\(em")
        elif ord(ch) > 127:
            out.append("\\[u%04X]" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def roff_inline(text):
    """`code` bold, *word* italic; the rest escaped."""
    out = []
    for part in re.split(r"(`[^`]+`|\*[^*\s][^*]*\*)", text):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append("\\fB" + roff_escape(part[1:-1], code=True) + "\\fR")
        elif part.startswith("*") and part.endswith("*") and len(part) > 1:
            out.append("\\fI" + roff_escape(part[1:-1], code=True) + "\\fR")
        else:
            out.append(roff_escape(part))
    return "".join(out)


def roff_lines(text):
    """Text as roff input lines, none starting with a control character."""
    lines = []
    for line in textwrap.wrap(text, 72, break_on_hyphens=False,
                              break_long_words=False):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return lines


def roff_literal(lines):
    out = [".RS 4", ".nf"]
    for line in lines:
        text = roff_escape(line, code=True)
        if text.startswith((".", "'")):
            text = "\\&" + text
        out.append(text)
    out += [".fi", ".RE"]
    return out


def roff_blocks(blocks, reference=None):
    out = []
    for block in blocks:
        if block.kind == "para":
            out.append(".PP")
            out += roff_lines(roff_inline(block.text))
        elif block.kind == "label":
            out.append(".PP")
            out += roff_lines(roff_inline(block.text))
        elif block.kind == "code":
            out.append(".PP")
            out += roff_literal(block.lines)
        elif block.kind == "list":
            for term, text in block.items:
                out.append(".TP")
                out.append(roff_inline(term))
                out += roff_lines(roff_inline(text))
        elif block.kind == "reference":
            if reference is None:
                raise DocError("@config-reference without a configuration")
            out += reference
    return out


def roff_page(page, version, reference=None):
    out = ['.TH %s %s "" "alertbridge %s" "%s"'
           % (page.name.upper(), page.section, version,
              "System Administration" if page.section == "8"
              else "File Formats")]
    # Identifiers fill these pages: never break one with a hyphen.
    out += [".nh", ".ad l"]
    out.append(".SH NAME")
    out.append("%s \\- %s" % (roff_escape(page.name),
                             roff_escape(page.summary)))
    for heading, blocks, commands in page.sections:
        out.append(".SH " + roff_escape(heading))
        out += roff_blocks(blocks, reference)
        for command in commands:
            out.append('.SS "%s \\(em %s"' % (roff_escape(command.name),
                                              roff_escape(command.summary)))
            out += roff_blocks(command.blocks)
    # groff warns about a paragraph macro right after a heading.
    cleaned = []
    for line in out:
        if line == ".PP" and cleaned and cleaned[-1].startswith((".SH",
                                                                 ".SS")):
            continue
        cleaned.append(line)
    return "\n".join(cleaned) + "\n"


# -- --help -------------------------------------------------------------


def plain(text):
    return re.sub(r"`([^`]+)`|\*([^*\s][^*]*)\*",
                  lambda m: m.group(1) or m.group(2), text)


def help_list(items):
    terms = [plain(t) for t, _ in items]
    width = min(max(len(t) for t in terms), 22) + 2
    out = []
    for term, (_, text) in zip(terms, items):
        body = textwrap.wrap(plain(text), HELP_WIDTH - 2 - width,
                             break_on_hyphens=False)
        if len(term) + 2 > width:
            out.append("  " + term)
            out += [" " * (2 + width) + line for line in body]
        else:
            out.append("  " + term.ljust(width) + body[0])
            out += [" " * (2 + width) + line for line in body[1:]]
    return out


def help_text(command):
    blocks = list(command.blocks)
    if not blocks or blocks[0].kind != "code":
        raise DocError("command %s has no usage block" % command.name)
    usage = blocks.pop(0).lines
    out = ["Usage: " + usage[0]] + ["       " + line for line in usage[1:]]
    for block in blocks:
        out.append("")
        if block.kind == "para":
            out += textwrap.wrap(plain(block.text), HELP_WIDTH,
                                 break_on_hyphens=False)
        elif block.kind == "label":
            out.append(plain(block.text))
        elif block.kind == "code":
            out += ["  " + line for line in block.lines]
        elif block.kind == "list":
            out += help_list(block.items)
    # A label sits right above its list.
    text = "\n".join(out) + "\n"
    return re.sub(r"(:\n)\n(  )", r"\1\2", text)


def help_overview(page, commands):
    synopsis = None
    for heading, blocks, _ in page.sections:
        if heading == "SYNOPSIS":
            if not blocks or blocks[0].kind != "code":
                raise DocError("SYNOPSIS does not start with a literal"
                               " block")
            synopsis = blocks[0].lines[0]
    if synopsis is None:
        raise DocError("no SYNOPSIS section")
    if not commands:
        raise DocError("no command under COMMANDS")
    width = max(len(c.name) for c in commands) + 3
    out = ["Usage: " + synopsis, "", "Commands:"]
    out += ["  " + c.name.ljust(width) + c.summary for c in commands]
    out += ["", "'alertbridge COMMAND --help' or 'alertbridge help COMMAND'"
            " describes each", "command; alertbridge(8) describes them"
            " all."]
    return "\n".join(out) + "\n"


def c_string(text):
    out = []
    for line in text.splitlines(keepends=True):
        piece = []
        for byte in line.encode("utf-8"):
            ch = chr(byte)
            if ch == "\\":
                piece.append("\\\\")
            elif ch == '"':
                piece.append('\\"')
            elif ch == "\n":
                piece.append("\\n")
            elif 32 <= byte < 127:
                piece.append(ch)
            else:
                piece.append("\\%03o" % byte)
        out.append('\t"%s"' % "".join(piece))
    return "\n".join(out) if out else '\t""'


def help_header(page, commands):
    out = ["/* Generated from doc/alertbridge.8.md by doc/docgen.py. */",
           "#ifndef ALERTBRIDGE_HELP_TEXT_H", "#define ALERTBRIDGE_HELP_TEXT_H",
           "", "static const char help_overview[] =",
           c_string(help_overview(page, commands)) + ";", "",
           "static const struct {", "\tconst char *name;",
           "\tconst char *text;", "} help_commands[] = {"]
    for command in commands:
        out.append('\t{"%s",' % command.name)
        out.append(c_string(help_text(command)) + "},")
    out += ["};", "", "#endif", ""]
    return "\n".join(out)


# -- bash completion ------------------------------------------------------


def option_names(term):
    return re.findall(r"`(-[-\w]+)`", term)


def option_argument(term, text):
    m = re.search(r"`\s*\*([A-Z]+)\*$", term) or re.search(
        r"\*([A-Z]+)\*$", term)
    if not m:
        return None
    choices = re.match(r"^one of ((?:`[^`]+`(?:, | or )?)+)", text)
    if choices:
        return "choice:" + " ".join(re.findall(r"`([^`]+)`",
                                               choices.group(1)))
    return {"FILE": "file", "DIR": "dir"}.get(m.group(1), "value")


def completion(page, commands, template):
    options = {}
    words = {}
    arguments = {}
    for command in commands:
        opts = []
        for block in command.blocks:
            if block.kind != "list":
                continue
            for term, text in block.items:
                names = option_names(term)
                if not names:
                    words.setdefault(command.name, []).append(
                        plain(term))
                    continue
                opts += names
                kind = option_argument(term, text)
                for name in names:
                    if kind and arguments.get(name, kind) != kind:
                        raise DocError("option %s takes different"
                                       " arguments" % name)
                    if kind:
                        arguments[name] = kind
        options[command.name] = opts + ["--help"]

    def case(table):
        lines = ["\tcase $1 in"]
        for key in sorted(table):
            value = table[key]
            if isinstance(value, list):
                value = " ".join(value)
            lines.append("\t%s) echo '%s' ;;" % (key, value))
        lines.append("\tesac")
        return "\n".join(lines)

    text = template
    text = text.replace("@COMMANDS@", " ".join(c.name for c in commands))
    text = text.replace("@OPTIONS_CASE@", case(options))
    text = text.replace("@WORDS_CASE@", case(words))
    text = text.replace("@ARGUMENTS_CASE@", case(arguments))
    if re.search(r"@[A-Z_]+@", text):
        raise DocError("completion template: unknown placeholder")
    return text


# -- the configuration reference ------------------------------------------


def config_reference(path):
    """alertbridge.yaml's comments and blocks as roff."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")

    chunks = []
    current = []
    previous_blank = True
    for line in lines:
        starts = line[:1] not in ("", " ") and previous_blank
        if starts and current:
            chunks.append(current)
            current = []
        current.append(line)
        previous_blank = not line.strip()
    if current:
        chunks.append(current)

    out = []
    for index, chunk in enumerate(chunks):
        while chunk and not chunk[-1].strip():
            chunk.pop()
        prose = []
        i = 0
        while i < len(chunk) and chunk[i].startswith("#"):
            prose.append(re.sub(r"^# ?", "", chunk[i]))
            i += 1
        example = chunk[i:]
        if index == 0:
            if example:
                raise DocError("%s: the opening comment must stand alone"
                               % path)
            out += config_prose(prose)
            out.append(".SH KEYS")
            continue
        # A commented-out block ("# api:", then "#   key: ...") is an
        # example, not prose.
        for j, line in enumerate(prose):
            if re.match(r"^[a-z_]+:( |$)", line):
                example = ["# " + p if p else "#" for p in prose[j:]] + example
                prose = prose[:j]
                break
        keys = []
        for line in example:
            m = re.match(r"^(# )?([a-z_]+):( |$)", line)
            if m:
                keys.append(m.group(2))
        if not keys:
            m = re.search(r"\b([a-z_]+):", " ".join(prose))
            if not m:
                raise DocError("%s: a block with no key to name it" % path)
            keys = [m.group(1)]
        out.append(".SS " + roff_escape(", ".join(dict.fromkeys(keys)),
                                        code=True))
        out += config_prose(prose)
        if example:
            out.append(".PP")
            out += roff_literal(example)
    return out


def config_prose(prose):
    """Comment lines: filled paragraphs, indented lines kept as they are."""
    out = []
    para = []
    literal = []

    def flush_para():
        if para:
            out.append(".PP")
            out.extend(roff_lines(roff_inline(" ".join(para))))
            para.clear()

    def flush_literal():
        if literal:
            out.append(".PP")
            out.extend(roff_literal(literal))
            literal.clear()

    for line in prose:
        if not line.strip():
            flush_para()
            flush_literal()
        elif line.startswith("  "):
            flush_para()
            literal.append(line)
        else:
            flush_literal()
            para.append(line.strip())
    flush_para()
    flush_literal()
    return out


# -- main -------------------------------------------------------------------


def commands_of(page):
    for heading, _, commands in page.sections:
        if heading == "COMMANDS":
            return commands
    raise DocError("no COMMANDS section")


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--version", required=True)
    ap.add_argument("--commands", required=True,
                    help="doc/alertbridge.8.md")
    ap.add_argument("--config-page", help="doc/alertbridge.yaml.5.md")
    ap.add_argument("--config-example", help="config/alertbridge.yaml")
    ap.add_argument("--completion-template")
    ap.add_argument("--man8")
    ap.add_argument("--man5")
    ap.add_argument("--help-header")
    ap.add_argument("--completion")
    args = ap.parse_args()

    try:
        page = parse_page(args.commands)
        commands = commands_of(page)
        if args.man8:
            write(args.man8, roff_page(page, args.version))
        if args.help_header:
            write(args.help_header, help_header(page, commands))
        if args.completion:
            if not args.completion_template:
                raise DocError("--completion needs --completion-template")
            with open(args.completion_template, encoding="utf-8") as f:
                template = f.read()
            write(args.completion, completion(page, commands, template))
        if args.man5:
            if not args.config_page or not args.config_example:
                raise DocError("--man5 needs --config-page and"
                               " --config-example")
            frame = parse_page(args.config_page)
            write(args.man5, roff_page(frame, args.version,
                                       config_reference(args.config_example)))
    except (DocError, OSError) as e:
        print("docgen: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
