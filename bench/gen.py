#!/usr/bin/env python3
"""Workload generator and checker for the Converge file-management benchmark.

One content function serves every tool, so every tool is asked for the same
tree, byte for byte and mode for mode. Actions:

  gen.py --tool converge|cfengine|puppet|ansible --n N --root DIR --out FILE_OR_DIR
      Write that tool's input (manifest, policy or playbook) describing the tree.
  gen.py --check --n N --root DIR
      Read and compare the tree against the desired state; exit 1 and list the
      differences on mismatch. This is also the "plain script" baseline.
  gen.py --write --n N --root DIR
      Write the tree directly (the plain-script floor for a first apply).
  gen.py --drift --n N --root DIR
      Change one file's content behind the tools' back; print its path.
  gen.py --check --expect-drift --n N --root DIR
      Pass only if the drifted file is the one difference (a --noop preview
      must leave it so).

Python 3 standard library only.
"""

import argparse
import os
import sys

ROOT_MODE = 0o755
# Some files get 0600 so every tool has to handle more than one mode.
PRIVATE_EVERY = 4

DEFAULT_NAMES = {
    "converge": "site.yaml",
    "cfengine": "promises.cf",
    "puppet": "site.pp",
    "ansible": "playbook.yml",
}


def width(n):
    """Digits in file names: f00001.conf for N up to 99,999."""
    return max(5, len(str(n)))


def file_name(i, n):
    return f"f{i:0{width(n)}d}.conf"


def file_mode(i):
    return 0o600 if i % PRIVATE_EVERY == 0 else 0o644


def content(i):
    """The desired content of file i (1-based): a few lines including the index.

    Kept to letters, digits, '=', '#', '.', ':' and spaces so that no tool's
    string syntax needs escaping (no quotes, backslashes, '$', '@' or braces).
    """
    checksum = (i * 2654435761) % 2**32
    return (
        f"# converge bench: managed file {i}\n"
        f"index = {i}\n"
        f"name = item{i}\n"
        f"checksum = {checksum:08x}\n"
        f"enabled = {'yes' if i % 2 else 'no'}\n"
    )


def desired(n, root):
    """Yield (index, path, content, mode) for every managed file."""
    for i in range(1, n + 1):
        yield i, os.path.join(root, file_name(i, n)), content(i), file_mode(i)


# --- tool inputs -----------------------------------------------------------

def gen_converge(n, root, out):
    out.write("resources:\n")
    out.write(f"  - directory: {root}\n    mode: \"{ROOT_MODE:04o}\"\n")
    for _, path, text, mode in desired(n, root):
        out.write(f"  - file: {path}\n    content: |\n")
        for line in text.splitlines():
            out.write(f"      {line}\n")
        out.write(f"    mode: \"{mode:04o}\"\n")


def gen_cfengine(n, root, out):
    # content => (CFEngine >= 3.16) writes the string as the whole file;
    # literal newlines are allowed inside a quoted string. The bodies are
    # defined here so the policy needs no masterfiles/stdlib.
    out.write(
        "body common control\n{\n"
        '  bundlesequence => { "bench" };\n'
        "}\n\n"
        "body perms m(mode)\n{\n"
        '  mode => "$(mode)";\n  rxdirs => "false";\n'
        "}\n\n"
        "bundle agent bench\n{\n"
        "  files:\n"
        # A trailing "/." makes CFEngine treat the promiser as a directory.
        f'    "{root}/."\n'
        '      create => "true",\n'
        f'      perms => m("{ROOT_MODE:o}");\n\n'
    )
    for _, path, text, mode in desired(n, root):
        out.write(
            f'    "{path}"\n'
            '      create => "true",\n'
            f'      content => "{text}",\n'
            f'      perms => m("{mode:o}");\n\n'
        )
    out.write("}\n")


def gen_puppet(n, root, out):
    # Single-quoted Puppet strings may span lines and interpolate nothing.
    out.write(
        f"file {{ '{root}':\n"
        "  ensure => directory,\n"
        f"  mode   => '{ROOT_MODE:04o}',\n"
        "}\n"
    )
    for _, path, text, mode in desired(n, root):
        out.write(
            f"file {{ '{path}':\n"
            "  ensure  => file,\n"
            f"  content => '{text}',\n"
            f"  mode    => '{mode:04o}',\n"
            "}\n"
        )


def gen_ansible(n, root, out):
    out.write(
        "- hosts: localhost\n"
        "  connection: local\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - name: root directory\n"
        "      ansible.builtin.file:\n"
        f"        path: {root}\n"
        "        state: directory\n"
        f"        mode: \"{ROOT_MODE:04o}\"\n"
    )
    for i, path, text, mode in desired(n, root):
        out.write(
            f"    - name: file {i}\n"
            "      ansible.builtin.copy:\n"
            f"        dest: {path}\n"
            "        content: |\n"
        )
        for line in text.splitlines():
            out.write(f"          {line}\n")
        out.write(f"        mode: \"{mode:04o}\"\n")


GENERATORS = {
    "converge": gen_converge,
    "cfengine": gen_cfengine,
    "puppet": gen_puppet,
    "ansible": gen_ansible,
}


# --- plain-script actions --------------------------------------------------

def check(n, root):
    """Return a list of human-readable differences; empty means converged."""
    problems = []
    try:
        st = os.stat(root)
    except FileNotFoundError:
        return [f"{root}: missing"]
    if st.st_mode & 0o7777 != ROOT_MODE:
        problems.append(f"{root}: mode {st.st_mode & 0o7777:04o}, want {ROOT_MODE:04o}")
    expected_names = set()
    for i, path, text, mode in desired(n, root):
        expected_names.add(os.path.basename(path))
        try:
            with open(path, "rb") as f:
                actual = f.read()
            st = os.stat(path)
        except FileNotFoundError:
            problems.append(f"{path}: missing")
            continue
        if actual != text.encode():
            problems.append(f"{path}: content differs ({len(actual)} bytes, want {len(text.encode())})")
        if st.st_mode & 0o7777 != mode:
            problems.append(f"{path}: mode {st.st_mode & 0o7777:04o}, want {mode:04o}")
    extra = sorted(set(os.listdir(root)) - expected_names)
    for name in extra:
        problems.append(f"{os.path.join(root, name)}: unexpected entry")
    return problems


def write(n, root):
    os.makedirs(root, exist_ok=True)
    os.chmod(root, ROOT_MODE)
    for _, path, text, mode in desired(n, root):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)


def drift_path(n, root):
    return os.path.join(root, file_name(n // 2 + 1, n))


def drift(n, root):
    """Overwrite the middle file with other content (its mode is kept)."""
    i = n // 2 + 1
    path = drift_path(n, root)
    with open(path, "w") as f:
        f.write(f"# changed behind the tool's back\nindex = {i}\n")
    return path


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    action = p.add_mutually_exclusive_group(required=True)
    action.add_argument("--tool", choices=sorted(GENERATORS))
    action.add_argument("--check", action="store_true", help="read and compare the tree")
    action.add_argument("--write", action="store_true", help="write the tree directly")
    action.add_argument("--drift", action="store_true", help="change one file's content")
    p.add_argument("--expect-drift", action="store_true",
                   help="with --check: the drifted file must be the only difference")
    p.add_argument("--n", type=int, required=True, help="number of files")
    p.add_argument("--root", required=True, help="absolute path of the managed directory")
    p.add_argument("--out", help="output file, or a directory to hold the default file name")
    a = p.parse_args(argv)

    if a.n < 1:
        p.error("--n must be at least 1")
    if not os.path.isabs(a.root):
        p.error("--root must be an absolute path")
    root = a.root.rstrip("/") or "/"

    if a.tool:
        if not a.out:
            p.error("--tool needs --out")
        out = a.out
        if os.path.isdir(out):
            out = os.path.join(out, DEFAULT_NAMES[a.tool])
        with open(out, "w") as f:
            GENERATORS[a.tool](a.n, root, f)
        print(out)
        return 0
    if a.check:
        problems = check(a.n, root)
        if a.expect_drift:
            want = f"{drift_path(a.n, root)}: content differs"
            if len(problems) == 1 and problems[0].startswith(want):
                return 0
            problems.append(f"(expected exactly one difference: {want})")
        if problems:
            print(f"MISMATCH: {len(problems)} difference(s) under {root}", file=sys.stderr)
            for line in problems[:20]:
                print("  " + line, file=sys.stderr)
            return 1
        return 0
    if a.write:
        write(a.n, root)
        return 0
    if a.drift:
        print(drift(a.n, root))
        return 0
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
