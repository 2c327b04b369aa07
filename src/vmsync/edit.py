"""The .edit format: anchored insertions into an existing file (README.md, "kernel/")."""

import re

from .util import Fail, say


def parse_edit(text, name):
    """Parse an .edit file into [(kind, regex, [lines])]."""
    blocks = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith('@@ ') or line == '@@':
            words = line[3:].strip().split(None, 1)
            kind = words[0] if words else ''
            arg = words[1] if len(words) > 1 else ''
            if kind in ('after', 'before', 'replace'):
                if not arg:
                    raise Fail('%s:%d: "@@ %s" needs a regex' % (name, n, kind))
                try:
                    re.compile(arg)
                except re.error as e:
                    raise Fail('%s:%d: bad regex %r: %s' % (name, n, arg, e))
            elif kind == 'end':
                if arg:
                    raise Fail('%s:%d: "@@ end" takes no argument' % (name, n))
            else:
                raise Fail('%s:%d: unknown block "%s" (use @@ after REGEX, '
                           '@@ before REGEX, @@ replace REGEX or @@ end)'
                           % (name, n, line))
            blocks.append((kind, arg, []))
        elif blocks:
            blocks[-1][2].append(line)
        elif line.strip():
            raise Fail('%s:%d: text before the first @@ line' % (name, n))
    return blocks


def apply_edit(text, edit_text, name, target, only=None, unmatched=None):
    """Apply an .edit file (text) to text; name/target are for messages.
    only: the 1-based numbers of the blocks to apply (default: all).
    unmatched: None, or (when the tree carries patches under test, which may
    have rewritten what a replace block rewrites) a list to which a replace
    block that matched nothing is appended instead of being an error."""
    lines = text.splitlines()
    trailing_nl = text.endswith('\n') or not text
    for n, (kind, regex, body) in enumerate(parse_edit(edit_text, name), 1):
        if only is not None and n not in only:
            continue
        if kind == 'replace':
            # every match in the whole text (the regex may span lines); the
            # block is the replacement template, with \1 for groups
            joined, count = re.subn(regex, '\n'.join(body), '\n'.join(lines),
                                    flags=re.M)
            if not count and unmatched is None:
                raise Fail("%s: '%s' not found in %s" % (name, regex, target))
            if not count:
                say("vmsync: note: %s: '%s' matched nothing in %s as patched"
                    % (name, regex, target))
                unmatched.append("%s: '%s'" % (name, regex))
            lines = joined.split('\n') if joined else []
            continue
        if kind == 'end':
            lines.extend(body)
            continue
        rx = re.compile(regex)
        for i, line in enumerate(lines):
            if rx.search(line):
                at = i + 1 if kind == 'after' else i
                lines[at:at] = body
                break
        else:
            raise Fail("%s: anchor '%s' not found in %s" % (name, regex, target))
    return '\n'.join(lines) + ('\n' if trailing_nl and lines else '')
