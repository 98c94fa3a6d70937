#!/usr/bin/env python3
"""Compiles the numbering-plan data in src/number/data/ into C tables (numplan_data.h).

Each libphonenumber pattern (number-classes.tsv, the leading_digits selectors and the
international prefixes) is written in a small regex dialect over the ten digits: groups
"(...)" and "(?:...)", alternation "|", classes "[...]" with ranges, "\\d", digits, and the
quantifiers "{n}", "{n,m}" and "?". Anything else is refused, so a new construct in the
data fails the generation instead of being misread.

Every pattern becomes a Thompson NFA, then a DFA by subset construction. The class
patterns of one territory are compiled together into one DFA whose accepting states carry
the mask of the classes that match there (a number is read once, whatever its number of
classes). All DFAs share one transition table, minimised as a whole (Moore's partition
refinement), so identical tails such as "\\d{7}" are stored once. State 0 is the dead state.

Run from the repository root; the output (numplan_data.h and numplan_data.c) is committed,
like that of src/sip/gen_hdr_hash.py (clang-format 14 must be on PATH):
    python3 src/number/gen_numplan.py src/number
CTest lint.numplan_data runs it with --check: the committed files must be what the data
and the generator give.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")

# The order of enum numclass in number.h: bit (1 << value) in the accept masks.
CLASSES = ["unknown", "fixedLine", "mobile", "tollFree", "premiumRate", "sharedCost",
           "voip", "personalNumber", "pager", "uan", "voicemail"]
PREFIX_ACCEPT = 1  # the accept mask of the prefix DFAs (leading digits, international prefix)


def read_tsv(name):
    rows = []
    header = None
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")
            if header is None:
                header = cells
                continue
            cells += [""] * (len(header) - len(cells))
            rows.append(dict(zip(header, cells)))
    return rows


class Parser:
    """Recursive-descent parser of the pattern dialect into a small AST."""

    def __init__(self, text):
        self.text = text
        self.pos = 0

    def fail(self, what):
        raise ValueError("pattern %r: %s at offset %d" % (self.text, what, self.pos))

    def peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else None

    def parse(self):
        node = self.alternation()
        if self.pos != len(self.text):
            self.fail("unexpected character")
        return node

    def alternation(self):
        branches = [self.concatenation()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.concatenation())
        return ("alt", branches) if len(branches) > 1 else branches[0]

    def concatenation(self):
        items = []
        while self.peek() not in (None, "|", ")"):
            items.append(self.quantified())
        return ("cat", items)

    def quantified(self):
        atom = self.atom()
        c = self.peek()
        if c == "?":
            self.pos += 1
            return ("rep", atom, 0, 1)
        if c == "{":
            end = self.text.find("}", self.pos)
            if end < 0:
                self.fail("unclosed {")
            body = self.text[self.pos + 1:end]
            self.pos = end + 1
            lo, _, hi = body.partition(",")
            if not lo.isdigit() or (hi and not hi.isdigit()) or (not hi and "," in body):
                self.fail("bad repeat {%s}" % body)
            lo = int(lo)
            hi = int(hi) if hi else lo
            if hi < lo or hi > 20:
                self.fail("repeat out of range")
            return ("rep", atom, lo, hi)
        if c in ("*", "+"):
            self.fail("unbounded repeat")
        return atom

    def atom(self):
        c = self.peek()
        if c is None:
            self.fail("missing atom")
        if c.isdigit():
            self.pos += 1
            return ("set", frozenset([int(c)]))
        if c == "\\":
            if self.text[self.pos:self.pos + 2] != "\\d":
                self.fail("unknown escape")
            self.pos += 2
            return ("set", frozenset(range(10)))
        if c == "[":
            return self.char_class()
        if c == "(":
            self.pos += 1
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            node = self.alternation()
            if self.peek() != ")":
                self.fail("unclosed group")
            self.pos += 1
            return node
        self.fail("unsupported character")
        return None

    def char_class(self):
        self.pos += 1
        digits = set()
        while self.peek() != "]":
            c = self.peek()
            if c is None or not (c.isdigit() or c == "\\"):
                self.fail("bad class")
            if c == "\\":
                if self.text[self.pos:self.pos + 2] != "\\d":
                    self.fail("unknown escape in class")
                self.pos += 2
                digits.update(range(10))
                continue
            self.pos += 1
            if self.peek() == "-" and self.text[self.pos + 1:self.pos + 2].isdigit():
                hi = int(self.text[self.pos + 1])
                self.pos += 2
                if hi < int(c):
                    self.fail("reversed range")
                digits.update(range(int(c), hi + 1))
            else:
                digits.add(int(c))
        self.pos += 1
        return ("set", frozenset(digits))


class Nfa:
    """Thompson NFA: edges[state] = list of (digit set or None for epsilon, target)."""

    def __init__(self):
        self.edges = []

    def state(self):
        self.edges.append([])
        return len(self.edges) - 1

    def build(self, node, start):
        """Adds `node` starting at `start`; returns its end state."""
        kind = node[0]
        if kind == "set":
            end = self.state()
            self.edges[start].append((node[1], end))
            return end
        if kind == "cat":
            cur = start
            for item in node[1]:
                cur = self.build(item, cur)
            return cur
        if kind == "alt":
            end = self.state()
            for branch in node[1]:
                s = self.state()
                self.edges[start].append((None, s))
                self.edges[self.build(branch, s)].append((None, end))
            return end
        _, atom, lo, hi = node
        cur = start
        for _ in range(lo):
            cur = self.build(atom, cur)
        end = self.state()
        self.edges[cur].append((None, end))
        for _ in range(hi - lo):
            cur = self.build(atom, cur)
            self.edges[cur].append((None, end))
        return end

    def closure(self, states):
        stack = list(states)
        seen = set(states)
        while stack:
            s = stack.pop()
            for label, t in self.edges[s]:
                if label is None and t not in seen:
                    seen.add(t)
                    stack.append(t)
        return frozenset(seen)


class Table:
    """The shared DFA table: trans[state] = 10 targets, accept[state] = mask."""

    def __init__(self):
        self.trans = [[0] * 10]
        self.accept = [0]

    def add_dfa(self, patterns):
        """patterns: list of (regex, mask). Returns the start state of their joint DFA. A
        prefix DFA (leading digits, international prefix) is the same: its reader stops or
        records where it passes an accepting state."""
        nfa = Nfa()
        start = nfa.state()
        finals = {}
        for text, mask in patterns:
            s = nfa.state()
            nfa.edges[start].append((None, s))
            end = nfa.build(Parser(text).parse(), s)
            finals[end] = finals.get(end, 0) | mask
        ids = {}
        pending = []

        def intern(subset):
            if subset not in ids:
                ids[subset] = len(self.trans)
                self.trans.append([0] * 10)
                mask = 0
                for s in subset:
                    mask |= finals.get(s, 0)
                self.accept.append(mask)
                pending.append(subset)
            return ids[subset]

        first = intern(nfa.closure([start]))
        while pending:
            subset = pending.pop()
            sid = ids[subset]
            for d in range(10):
                nxt = set()
                for s in subset:
                    for label, t in nfa.edges[s]:
                        if label is not None and d in label:
                            nxt.add(t)
                if nxt:
                    self.trans[sid][d] = intern(nfa.closure(nxt))
        return first

    def minimise(self, roots):
        """Moore refinement over the whole table; returns the new start of each root."""
        block = [a for a in self.accept]
        count = len(set(block))
        while True:
            sig = {}
            new = []
            for s in range(len(self.trans)):
                key = (block[s],) + tuple(block[t] for t in self.trans[s])
                if s == 0:
                    key = ("dead",) + key
                new.append(sig.setdefault(key, len(sig)))
            if len(sig) == count:
                block = new
                break
            block = new
            count = len(sig)
        # Renumber so that the dead state stays 0.
        order = {block[0]: 0}
        for s in range(len(self.trans)):
            order.setdefault(block[s], len(order))
        trans = [None] * len(order)
        accept = [0] * len(order)
        for s in range(len(self.trans)):
            b = order[block[s]]
            trans[b] = [order[block[t]] for t in self.trans[s]]
            accept[b] = self.accept[s]
        self.trans = trans
        self.accept = accept
        return [order[block[r]] for r in roots]

    def run(self, start, digits):
        s = start
        for ch in digits:
            s = self.trans[s][int(ch)]
        return self.accept[s]


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load():
    countries = read_tsv("country-codes.tsv")
    prefixes = {(r["calling_code"], r["iso3166_alpha2"]): r for r in read_tsv("territory-prefixes.tsv")}
    classes = {}
    for r in read_tsv("number-classes.tsv"):
        classes.setdefault((r["calling_code"], r["territory"]), []).append(r)
    territories = []
    for c in countries:
        key = (c["calling_code"], c["iso3166_alpha2"])
        if key not in prefixes:
            raise SystemExit("no prefixes for %s" % (key,))
        territories.append({
            "cc": c["calling_code"], "iso": c["iso3166_alpha2"], "name": c["name"],
            "main": c["main_for_code"] == "yes", "leading": c["leading_digits"],
            "national": prefixes[key]["national_prefix"],
            "intl": prefixes[key]["international_prefix"],
            "classes": classes.get(key, []),
        })
    # Main territory of a shared code first, then the file's order.
    territories.sort(key=lambda t: (int(t["cc"]), not t["main"]))
    return territories


def check_classes(table, territories):
    """Every example number matches its own class in the compiled DFA (the C test does the
    same through the public API)."""
    for t in territories:
        for r in t["classes"]:
            bit = 1 << CLASSES.index(r["class"])
            if not table.run(t["class_start"], r["example"]) & bit:
                raise SystemExit("example %s of %s %s does not match" % (r["example"], t["iso"], r["class"]))


def emit(table, territories, highrisk):
    """Returns {file name: text}, not yet formatted."""
    files = {}
    banner = ("/*\n * Generated by src/number/gen_numplan.py from src/number/data/ (libphonenumber's\n"
              " * metadata, Apache-2.0: see src/number/data/README.md). Do not edit: run\n"
              " *     python3 src/number/gen_numplan.py src/number\n")
    kind = "uint16_t" if len(table.trans) < 65536 else "uint32_t"
    parts = []
    w = parts.append
    w(banner + " * Private to src/number/numplan.c: the compiled numbering plan.\n */\n")
    w("#ifndef SW_NUMBER_NUMPLAN_DATA_H\n#define SW_NUMBER_NUMPLAN_DATA_H\n\n")
    w("#include <stdint.h>\n\n#include \"number/numplan.h\"\n\n")
    w("#define NUMPLAN_STATE_COUNT     %d\n" % len(table.trans))
    w("#define NUMPLAN_TERRITORY_COUNT %d\n" % len(territories))
    w("#define NUMPLAN_HIGHRISK_COUNT  %d\n" % len(highrisk))
    w("#define NUMPLAN_CODE_SLOTS      1110\n\n")
    w("/* next state = numplan_trans[state][digit]; state 0 is dead. */\n")
    w("extern const %s numplan_trans[NUMPLAN_STATE_COUNT][10];\n\n" % kind)
    w("/* The classes (1 << enum numclass) that match when a number ends in a state. */\n")
    w("extern const uint16_t numplan_accept[NUMPLAN_STATE_COUNT];\n\n")
    w("/* Sorted by calling code, the main territory of a shared code first. */\n")
    w("extern const struct numplan_territory numplan_territories[NUMPLAN_TERRITORY_COUNT];\n\n")
    w("/*\n * The first territory (index + 1, 0: none) of each calling code: codes of one digit\n")
    w(" * at [code], of two at [10 + code], of three at [110 + code].\n */\n")
    w("extern const uint16_t numplan_code_first[NUMPLAN_CODE_SLOTS];\n\n")
    w("/* high-risk-prefixes.tsv, with its notes. */\n")
    w("extern const struct numplan_highrisk numplan_highrisk[NUMPLAN_HIGHRISK_COUNT];\n\n")
    w("#endif\n")
    files["numplan_data.h"] = "".join(parts)
    parts = []
    w = parts.append
    w(banner + " */\n")
    w("#include \"number/numplan_data.h\"\n\n#include <stdbool.h>\n\n")
    w("const %s numplan_trans[NUMPLAN_STATE_COUNT][10] = {\n" % kind)
    for row in table.trans:
        w("    { %s },\n" % ", ".join(str(x) for x in row))
    w("};\n\nconst uint16_t numplan_accept[NUMPLAN_STATE_COUNT] = {\n")
    for i in range(0, len(table.accept), 16):
        w("    %s,\n" % ", ".join(str(x) for x in table.accept[i:i + 16]))
    w("};\n\nconst struct numplan_territory numplan_territories[NUMPLAN_TERRITORY_COUNT] = {\n")
    for t in territories:
        w("    { %s, %s, %s, %s, %d, %d, %d, %d, %s },\n" % (
            c_string(t["iso"]), c_string(t["cc"]), c_string(t["name"]), c_string(t["national"]),
            t["leading_start"], t["intl_start"], t["class_start"], 1 if t["main"] else 0,
            "true" if t["classes"] else "false"))
    first = [0] * 1110
    for i, t in enumerate(territories):
        slot = {1: 0, 2: 10, 3: 110}[len(t["cc"])] + int(t["cc"])
        if not first[slot]:
            first[slot] = i + 1
    w("};\n\nconst uint16_t numplan_code_first[NUMPLAN_CODE_SLOTS] = {\n")
    for i in range(0, len(first), 16):
        w("    %s,\n" % ", ".join(str(x) for x in first[i:i + 16]))
    w("};\n\nconst struct numplan_highrisk numplan_highrisk[NUMPLAN_HIGHRISK_COUNT] = {\n")
    for r in highrisk:
        w("    { %s, %s, %s, %s,\n      %s },\n" % (
            c_string(r["prefix"]), c_string(r["iso3166_alpha2"]), c_string(r["name"]),
            c_string(r["lists"]), c_string(r["note"])))
    w("};\n")
    files["numplan_data.c"] = "".join(parts)
    return files


def formatted(text, name):
    """The text as the repository's clang-format writes it (the style of src/number/)."""
    done = subprocess.run(["clang-format", "--assume-filename=" + os.path.join(HERE, name)],
                          input=text, capture_output=True, text=True, check=True)
    return done.stdout


def main():
    territories = load()
    table = Table()
    roots = []
    for t in territories:
        pats = [(r["national_pattern"], 1 << CLASSES.index(r["class"])) for r in t["classes"]]
        t["class_start"] = table.add_dfa(pats) if pats else 0
        t["leading_start"] = table.add_dfa([(t["leading"], PREFIX_ACCEPT)]) if t["leading"] else 0
        t["intl_start"] = table.add_dfa([(t["intl"], PREFIX_ACCEPT)]) if t["intl"] else 0
        roots += [t["class_start"], t["leading_start"], t["intl_start"]]
    new = table.minimise(roots)
    for i, t in enumerate(territories):
        t["class_start"], t["leading_start"], t["intl_start"] = new[3 * i:3 * i + 3]
    check_classes(table, territories)
    highrisk = read_tsv("high-risk-prefixes.tsv")
    for r in highrisk:
        if not r["prefix"].isdigit() or len(r["prefix"]) > 15:
            raise SystemExit("bad high-risk prefix %r" % r["prefix"])
    args = sys.argv[1:]
    if len(args) != 1 and not (len(args) == 2 and args[0] == "--check"):
        raise SystemExit("usage: gen_numplan.py [--check] DIR (src/number)")
    out_dir = args[-1]
    stale = []
    for name, text in emit(table, territories, highrisk).items():
        # The committed files pass the repository's clang-format check.
        text = formatted(text, name)
        path = os.path.join(out_dir, name)
        if args[0] == "--check":
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    stale.append(path)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if stale:
        raise SystemExit("stale (re-run src/number/gen_numplan.py src/number): " + " ".join(stale))


if __name__ == "__main__":
    main()
