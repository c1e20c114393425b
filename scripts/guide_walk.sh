#!/usr/bin/env bash
# docs/start-your-own-report.md, replayed as a new author follows it, with the
# machine time of each step (BENCHMARKS.md, "A new author's first hour").
#   usage: scripts/guide_walk.sh [WORKDIR]        (default: a new folder under /tmp)
# Quarto: the binaries in REPROBOOK_TEST_QUARTO (colon-separated), else the two
# that `./run test` installs under ~/.cache/reprobook/. The example data is the
# guide's (made up for it). It installs the engine as committed (a clone of
# this checkout's HEAD) and writes nothing into the checkout.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-$(mktemp -d /tmp/guide-walk.XXXXXX)}"
QUARTOS="${REPROBOOK_TEST_QUARTO:-$HOME/.cache/reprobook/quarto-1.10.18/bin/quarto:$HOME/.cache/reprobook/quarto-1.9.38/bin/quarto}"
mkdir -p "$WORK"; cd "$WORK"
TIMES="$WORK/times.txt"; : > "$TIMES"
step() {  # step "label" command...: run it, print its output's tail, record seconds
  local label="$1"; shift
  local start end
  start=$(date +%s.%N)
  "$@" > "$WORK/last.log" 2>&1 || { cat "$WORK/last.log"; echo "FAILED: $label" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v l="$label" -v s="$start" -v e="$end" 'BEGIN { printf "%-58s %6.1f s\n", l, e - s }' | tee -a "$TIMES"
}

# 1. Install, from a clone of the committed engine (pip builds in the clone,
# not in this checkout)
git clone -q "$REPO" reprobook
step "1. venv + pip install -c requirements.lock (engine, pytest)" \
  bash -c "python3.11 -m venv .venv && .venv/bin/pip install -q -c reprobook/requirements.lock ./reprobook pytest"
. .venv/bin/activate
reprobook --version

# 2. A new report
step "2. reprobook new myreport" reprobook new myreport
cd myreport
step "2. reprobook build (starter, built-in renderer)" reprobook build
step "2. pytest (starter's tests)" pytest -q -p no:cacheprovider

# 3.-4. Make it yours; your data
sed -i 's/title: "Library Visits in 2024"/title: "Rainfall at the field station"/' _quarto.yml editions.yml
sed -i 's/^pdf: library-visits.pdf/pdf: rainfall.pdf/' reprobook.yml
printf 'year,rainfall_mm,rain_days\n2019,742,96\n2020,815,104\n2021,688,91\n2022,903,117\n2023,771,99\n' > data/raw/rainfall.csv
python - <<'EOF'
import json
path = "data/raw/datapackage.json"
package = json.load(open(path))
package["resources"].append({
    "name": "rainfall", "path": "rainfall.csv",
    "title": "Yearly rainfall at the field station, 2019-2023",
    "description": "Total rainfall and days with rain per calendar year.",
    "format": "csv", "encoding": "utf-8",
    "sources": [{"title": "Field station logbook", "path": "https://example.org/logbook"}],
    "licenses": [{"name": "CC-BY-4.0"}], "hash": "sha256:",
    "schema": {"fields": [
        {"name": "year", "type": "integer", "unit": "year", "constraints": {"required": True, "unique": True}},
        {"name": "rainfall_mm", "type": "integer", "unit": "mm", "constraints": {"required": True, "minimum": 0}},
        {"name": "rain_days", "type": "integer", "unit": "days",
         "constraints": {"required": True, "minimum": 0, "maximum": 366}}],
        "primaryKey": ["year"]}})
json.dump(package, open(path, "w"), indent=2)
EOF
step "4. reprobook data rehash" reprobook data rehash
step "4. reprobook data validate" reprobook data validate

# 5.-6. Your notebook and your text (the guide's cells and chapter)
python - <<'EOF'
import nbformat
def notebook(path, cells):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
notebook("notebooks/rainfall.ipynb", [
    'import matplotlib.pyplot as plt\n\nfrom reprobook.notebook import Step\n\n'
    'step = Step("rainfall")\ndf = step.read_csv("rainfall")\ndf',
    'wettest = df.loc[df.rainfall_mm.idxmax()]\n\n'
    'step.fact("rain.years", len(df), unit="years", label="Years of records")\n'
    'step.fact("rain.mean_mm", df.rainfall_mm.mean(), unit="mm", fmt="{:,.0f}", label="Average yearly rainfall")\n'
    'step.fact("rain.wettest_year", int(wettest.year), unit="year", rows={"rainfall": [wettest.year]}, label="Wettest year")\n'
    'step.fact("rain.wettest_mm", int(wettest.rainfall_mm), unit="mm", fmt="{:,}", rows={"rainfall": [wettest.year]}, '
    'label="Rainfall in the wettest year")',
    'fig, ax = plt.subplots(figsize=(6.4, 3.2))\nax.bar(df.year.astype(str), df.rainfall_mm, color="#3b6ea8")\n'
    'ax.set_ylabel("Rainfall (mm)")\n'
    'step.save_figure(fig, "rainfall-per-year", data=df[["year", "rainfall_mm"]])\nplt.close(fig)\n\n'
    'step.save_table(df.rename(columns={"year": "Year", "rainfall_mm": "Rainfall (mm)", "rain_days": "Days with rain"}),\n'
    '                "rainfall-table", formats={"Rainfall (mm)": "{:,}"})',
    'step.finish()'])
notebook("notebooks/rain-days.ipynb", [
    'from reprobook.notebook import Step\n\nstep = Step("rain-days")\ndf = step.read_csv("rainfall")',
    'step.fact("days.mean", df.rain_days.mean(), unit="days", fmt="{:,.0f}", label="Average days with rain")\n'
    'step.finish()'])
EOF
# the example removed (section 4's last paragraph), the rainfall report in its place
rm -r data/raw/library-visits.csv notebooks/visits.ipynb chapters/visits.qmd chapters/method.qmd
python - <<'EOF'
import json
path = "data/raw/datapackage.json"
package = json.load(open(path))
package["resources"] = [r for r in package["resources"] if r["name"] != "library-visits"]
json.dump(package, open(path, "w"), indent=2)
EOF
sed -i 's#    - chapters/visits.qmd#    - chapters/rainfall.qmd#; /chapters\/method.qmd/d' _quarto.yml
cat > reprobook.yml <<'EOF'
datapackage: data/raw/datapackage.json
notebooks:
  - path: notebooks/rainfall.ipynb
    inputs: [rainfall]
    outputs:
      - figures/rainfall-per-year.svg
      - figures/rainfall-per-year.pdf
      - figures/rainfall-per-year.csv
      - figures/rainfall-table.md
      - figures/rainfall-table.csv
pdf: rainfall.pdf
highlights:
  - fact: rain.wettest_mm
    label: mm of rain in the wettest year
    chapter: chapters/rainfall.qmd
EOF
cat > index.qmd <<'EOF'
# Welcome {.unnumbered}

Yearly rainfall at a field station over {{< fact rain.years >}} years (@sec-rainfall).
EOF
cat > chapters/rainfall.qmd <<'EOF'
# Rainfall {#sec-rainfall}

The station logged rain for {{< fact rain.years >}} years. A year brought
{{< fact rain.mean_mm >}} mm on average; the wettest, {{< fact rain.wettest_year >}},
brought {{< fact rain.wettest_mm >}} mm (@fig-rainfall, @tbl-rainfall). Bars
suit totals per period [@wilkinson2005].

![Rainfall per year at the field station.](../figures/rainfall-per-year.svg){#fig-rainfall fig-alt="Bar chart of rainfall per year; the wettest year, {{< var rain.wettest_year >}}, had {{< var rain.wettest_mm >}} mm."}

{{< include ../figures/rainfall-table.md >}}

: Rainfall and days with rain per year {#tbl-rainfall}
EOF
python - <<'EOF'
path = "tests/test_numbers.py"
text = open(path).read()
text = text[:text.index("def test_facts_match_the_data")] + '''def test_rainfall_chapter(edition):
    rain = pd.read_csv(ROOT / "data/raw/rainfall.csv")
    facts = json.loads((edition / "facts.json").read_text(encoding="utf-8"))
    wettest = rain.loc[rain.rainfall_mm.idxmax()]
    assert facts["rain.wettest_year"]["value"] == wettest.year
    assert facts["rain.mean_mm"]["value"] == rain.rainfall_mm.mean()
    text = page_text(edition / "chapters" / "rainfall.html")
    assert f"the wettest, {wettest.year}, brought {wettest.rainfall_mm:,} mm" in text
'''
open(path, "w").write(text)
EOF
step "5. reprobook build --dry-run" reprobook build --dry-run
step "7. reprobook build (own data, notebook, chapter; built-in)" reprobook build
step "9. pytest" pytest -q -p no:cacheprovider

# 7. With Quarto on PATH
IFS=: read -ra BINARIES <<< "$QUARTOS"
for quarto in "${BINARIES[@]}"; do
  [ -x "$quarto" ] || continue
  step "7. reprobook build with Quarto $("$quarto" --version)" env PATH="$(dirname "$quarto"):$PATH" reprobook build
  step "9. pytest (Quarto's pages)" pytest -q -p no:cacheprovider
done

# 8. Verify (after a built-in build)
step "8. reprobook build --renderer builtin" reprobook build --renderer builtin
step "8. reprobook verify" reprobook verify

# 9. Change the data, the numbers follow
echo "2024,951,121" >> data/raw/rainfall.csv
step "9. reprobook data rehash (a year added)" reprobook data rehash
step "9. reprobook build (notebook re-executed)" reprobook build
grep -q "input 'rainfall' changed" "$WORK/last.log"
step "9. pytest" pytest -q -p no:cacheprovider

# 11. A second edition
step "11. reprobook editions --pins" reprobook editions --pins
PIN=$(sed -n 's/^    rainfall: //p' "$WORK/last.log")
cat > editions.yml <<EOF
editions:
  - number: "1.0"
    date: "2024-12-31"
    title: "Rainfall at the field station"
    status: superseded
    summary: >-
      The first edition.
    profile: null
    pins:
      inputs:
        rainfall: $PIN
  - number: "1.1"
    date: "2025-03-31"
    title: "Rainfall at the field station, with days of rain"
    status: current
    summary: >-
      Edition 1.0 unchanged, plus a chapter on the days with rain.
    profile: "1.1"
EOF
printf 'book:\n  date: "2025-03-31"\n  chapters:\n    - chapters/rain-days.qmd\n' > _quarto-1.1.yml
printf 'notebooks:\n  - path: notebooks/rain-days.ipynb\n    inputs: [rainfall]\n' > reprobook-1.1.yml
printf '# Days with rain {#sec-rain-days}\n\nIn an average year it rained on {{< fact days.mean >}} days.\n' > chapters/rain-days.qmd
step "11. reprobook build (two editions, built-in)" reprobook build
step "11. reprobook editions" reprobook editions
step "11. reprobook verify --edition 1.0" reprobook verify --edition 1.0
step "11. reprobook verify (both editions)" reprobook verify
step "11. pytest (edition 1.1)" pytest -q -p no:cacheprovider
if [ -x "${BINARIES[0]}" ]; then
  step "11. reprobook build, two editions, Quarto $("${BINARIES[0]}" --version)" \
    env PATH="$(dirname "${BINARIES[0]}"):$PATH" reprobook build
fi
awk '{ total += $(NF-1) } END { printf "%-58s %6.1f s\n", "total machine time", total }' "$TIMES" | tee -a "$TIMES"
