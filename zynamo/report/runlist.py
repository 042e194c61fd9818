"""The pages of ``zynamo serve``: the list of every run (sortable by any column, filtered by a
text box, a little inline script), the runs of one test (a seed sweep), and the matrix of
workloads by nemeses with the latest verdict of each (what ``zynamo test-all`` runs). Pure:
``RunInfo`` in, HTML text out.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from zynamo.report.fmt import e, page
from zynamo.report.runs import RunInfo

EXTRA_CSS = """
.filters{display:flex;gap:10px;align-items:center;margin-bottom:10px}
.filters input{font:inherit;padding:4px 8px;border:1px solid #d0d7de;border-radius:6px;width:320px}
th.sortable{cursor:pointer;user-select:none}th.sortable:after{content:" ↕";color:#8c959f}
.v-valid{color:#1a7f37;font-weight:700}.v-invalid{color:#cf222e;font-weight:700}
.v-unknown,.v-not{color:#bf8700;font-weight:700}
nav a{margin-right:14px}
td[class^=v-] a{color:inherit}
"""

SCRIPT = """
<script>
(function(){
  const table=document.getElementById('runs'); if(!table) return;
  const body=table.tBodies[0]; const box=document.getElementById('filter');
  const count=document.getElementById('count');
  function apply(){
    const words=box.value.toLowerCase().split(/\\s+/).filter(Boolean); let shown=0;
    for(const row of body.rows){
      const text=row.textContent.toLowerCase();
      const ok=words.every(w=>text.includes(w)); row.hidden=!ok; if(ok) shown++;
    }
    count.textContent=shown+' of '+body.rows.length+' runs';
  }
  box.addEventListener('input',apply);
  table.querySelectorAll('th.sortable').forEach((th,col)=>{
    let asc=true;
    th.addEventListener('click',()=>{
      const rows=[...body.rows]; const numeric=th.dataset.type==='num';
      rows.sort((a,b)=>{
        let x=a.cells[col].dataset.sort??a.cells[col].textContent;
        let y=b.cells[col].dataset.sort??b.cells[col].textContent;
        if(numeric){x=parseFloat(x)||0;y=parseFloat(y)||0;return asc?x-y:y-x;}
        return asc?x.localeCompare(y):y.localeCompare(x);
      });
      asc=!asc; rows.forEach(r=>body.appendChild(r));
    });
  });
  apply();
})();
</script>
"""


def run_href(run: RunInfo) -> str:
    return "/files/" + quote(run.path) + "/index.html"


def _nav() -> str:
    return "<nav><a href='/'>all runs</a><a href='/matrix'>matrix</a></nav>"


def render_run_list(runs: Sequence[RunInfo], results_dir: str, title: str = "Runs") -> str:
    rows = []
    for run in runs:
        verdict_css = "v-" + run.verdict.split()[0]
        test_link = f"/test/{quote(run.test)}"
        ops = "" if run.operations is None else str(run.operations)
        rows.append(
            f"<tr><td><a href='{e(test_link)}'>{e(run.test)}</a></td>"
            f"<td><a href='{e(run_href(run))}'>{e(run.started)}</a></td>"
            f"<td class='{verdict_css}'>{e(run.verdict)}</td><td>{e(run.env)}</td>"
            f"<td class=num>{e(run.seed)}</td><td class=num data-sort='{ops or 0}'>{e(ops)}</td>"
            f"<td>{e(', '.join(run.failing))}</td>"
            f"<td><a href='/zip/{e(quote(run.path))}'>zip</a></td></tr>"
        )
    headers = [
        ("test", ""), ("started (UTC)", ""), ("verdict", ""), ("environment", ""),
        ("seed", "num"), ("operations", "num"), ("failing checkers", ""),
    ]  # fmt: skip
    head = "".join(
        f"<th class='sortable{' num' if kind else ''}' data-type='{kind}'>{e(name)}</th>"
        for name, kind in headers
    )
    body = (
        f"<h1>{e(title)}</h1><div class=sub>results store <code>{e(results_dir)}</code></div>"
        f"{_nav()}<div class=card><div class=filters><input id=filter type=search"
        " placeholder='filter: words that must all appear, e.g. invalid register'>"
        f"<span id=count class=note>{len(runs)} runs</span></div>"
        f"<table id=runs><thead><tr>{head}<th>download</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>{SCRIPT}"
    )
    return page(title, body, EXTRA_CSS).replace(
        "<div class=sub><a href='index.html'>← run report</a></div>", ""
    )


def render_matrix(runs: Sequence[RunInfo], results_dir: str) -> str:
    """Workloads by nemesis sets: the newest run of each combination (``runs`` newest first)."""
    latest: dict[tuple[str, str], RunInfo] = {}
    for run in runs:
        latest.setdefault((run.workload, run.nemesis), run)
    workloads = sorted({w for w, _ in latest})
    nemeses = sorted({n for _, n in latest})
    head = "".join(f"<th>{e(n or '(none)')}</th>" for n in nemeses)
    rows = []
    for workload in workloads:
        cells = []
        for nemesis in nemeses:
            found = latest.get((workload, nemesis))
            if found is None:
                cells.append("<td class=note>–</td>")
            else:
                css = "v-" + found.verdict.split()[0]
                cells.append(
                    f"<td class='{css}'><a href='{e(run_href(found))}'>{e(found.verdict)}</a>"
                    f" <small class=note>{e(found.test)}, {e(found.started)}</small></td>"
                )
        rows.append(f"<tr><th>{e(workload or '?')}</th>{''.join(cells)}</tr>")
    body = (
        f"<h1>Matrix</h1><div class=sub>the newest run of each workload and nemesis set in"
        f" <code>{e(results_dir)}</code></div>{_nav()}<div class=card><table><thead><tr>"
        f"<th>workload \\ nemesis</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</div>"
    )
    return page("Matrix", body, EXTRA_CSS).replace(
        "<div class=sub><a href='index.html'>← run report</a></div>", ""
    )
