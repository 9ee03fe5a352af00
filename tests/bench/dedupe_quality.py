#!/usr/bin/env python3
"""Duplicate detection quality (never run by ctest).

    tests/bench/dedupe_quality.py [BASE_CONTACTS] [DUPLICATES]   (default 20000 2000)

Generates distinct people, injects known duplicates (case, accents dropped,
one-letter typos, swapped first/last names, phone written nationally, email
at another domain or missing), imports them with `crm import contacts`, runs
`crm contact duplicates --json` at the configured threshold and prints
precision and recall against the injected truth. CRM=path/to/crm.
"""
import csv, json, os, random, sqlite3, subprocess, sys, tempfile, unicodedata

base_n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
dup_n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
crm = os.environ.get("CRM") or next(p for p in (f"{root}/build-rel/core/crm", f"{root}/build/core/crm") if os.path.exists(p))
rng = random.Random(7)

FIRST = """Jean Marie Pierre Anne Louis Camille Élodie Hélène Jérôme François Zoé Chloé Léa Inès
Noé Théo Maël Gaëlle Agnès Benoît Céline Denis Émile Fabrice Gérard Isabelle Josée Karim Lucie
Mathis Nadia Océane Pascal Quentin Romain Sébastien Thérèse Ugo Valérie Xavier Yasmine Aurélien
Bérénice Clément Delphine Étienne Frédéric Guillaume Hugo Ingrid Julien Laurent Manon Nicolas
Olivier Patrice Raphaël Solène Timothée Victor William""".split()
SYL = "mar dur bon lef ber gar rou lam pet fon mor vin cha bre dan gui lau mic ric sal tor val cou bla"
SYL = SYL.split()
END = "et and ier ard eau ot in ault on ès y iot enne ac eux".split()
LAST = sorted({(rng.choice(SYL) + rng.choice(SYL) + rng.choice(END)).capitalize() for _ in range(20000)})

def strip_accents(s):
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")

def typo(s):
    if len(s) < 5:
        return s + "e"
    i = rng.randrange(2, len(s) - 1)
    return s[:i] + rng.choice("aeiourtnsl") + s[i + 1:]

people = []
for i in range(base_n):
    f, l = rng.choice(FIRST), rng.choice(LAST)
    phone = "06" + "".join(rng.choice("0123456789") for _ in range(8))
    local = strip_accents(f"{f}.{l}").lower().replace(" ", "") + str(rng.randrange(100))
    people.append(dict(external_id=f"P{i}", first_name=f, last_name=l,
                       email=f"{local}@{rng.choice(['gmail.com', 'orange.fr', 'free.fr'])}",
                       phone=phone, postal_code=f"{rng.randrange(1, 96):02d}{rng.randrange(0, 999):03d}",
                       country="FR"))

VARIANTS = ["case", "accents", "typo", "swap", "phone_format", "other_domain", "no_email"]
truth, dups = set(), []
for j, src in enumerate(rng.sample(people, dup_n)):
    d = dict(src, external_id=f"D{j}")
    kind = VARIANTS[j % len(VARIANTS)]
    d["email"] = ""  # the unique index would refuse the same email: the dup comes from elsewhere
    if kind == "case":
        d["first_name"], d["last_name"] = src["first_name"].upper(), src["last_name"].lower()
    elif kind == "accents":
        d["first_name"], d["last_name"] = strip_accents(src["first_name"]), strip_accents(src["last_name"])
        d["phone"] = ""
    elif kind == "typo":
        d["last_name"] = typo(src["last_name"])
        d["phone"] = ""
    elif kind == "swap":
        d["first_name"], d["last_name"] = src["last_name"], src["first_name"]
        d["phone"] = ""
    elif kind == "phone_format":
        p = src["phone"]
        d["phone"] = f"+33 {p[1]} {p[2:4]} {p[4:6]} {p[6:8]} {p[8:10]}"
        d["first_name"] = typo(src["first_name"])
        d["postal_code"] = ""
    elif kind == "other_domain":
        d["email"] = src["email"].split("@")[0] + "@yahoo.fr"
        d["phone"] = ""
        d["postal_code"] = ""
    truth.add(("P" + src["external_id"][1:], d["external_id"]))
    dups.append(d)

with tempfile.TemporaryDirectory() as tmp:
    with open(f"{tmp}/crm.yaml", "w") as y:
        y.write("database: crm.db\nhygiene:\n  duplicates:\n    refuse_on_add: false\n")
    rows = people + dups
    rng.shuffle(rows)
    with open(f"{tmp}/c.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(people[0].keys()))
        w.writeheader()
        w.writerows(rows)
    run = lambda *a: subprocess.run([crm, "--config", f"{tmp}/crm.yaml", "--quiet", *a],
                                    check=True, capture_output=True, text=True).stdout
    run("init")
    print(run("import", "contacts", f"{tmp}/c.csv").strip(), file=sys.stderr)
    out = run("--json", "contact", "duplicates")
    ext = dict(sqlite3.connect(f"{tmp}/crm.db").execute("SELECT id, external_id FROM contacts"))
    found = set()
    for line in out.splitlines():
        p = json.loads(line)
        a, b = sorted((ext[p["a"]], ext[p["b"]]), key=lambda e: (e[0] != "P", e))
        found.add((a, b))
    tp = len(found & truth)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(truth)
    missed = {}
    for j, (a, b) in enumerate(sorted(truth)):
        if (a, b) not in found:
            k = VARIANTS[int(b[1:]) % len(VARIANTS)]
            missed[k] = missed.get(k, 0) + 1
    print(f"contacts {len(rows)}  injected {len(truth)}  reported {len(found)}  "
          f"true positives {tp}  precision {precision:.3f}  recall {recall:.3f}")
    if missed:
        print("missed by variant:", missed)
