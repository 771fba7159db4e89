/// The dashboard's stylesheet and script, compiled in: no external assets, and the CSP
/// allows only same-origin files (no inline style or script).
enum Assets {
    static let css: String = {
        var css = baseCSS
        // Waterfall indentation per depth (no inline styles under the CSP).
        for depth in 0...24 { css += ".depth-\(depth){padding-left:\(8 + depth * 14)px}\n" }
        return css
    }()

    static let baseCSS = #"""
    :root{--bg:#f6f7f9;--panel:#fff;--ink:#1d2330;--muted:#667085;--line:#e4e7ec;--accent:#2f5bd3;--ok:#1f8a4c;--warn:#b7791f;--bad:#c0392b}
    *{box-sizing:border-box}
    body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:var(--bg)}
    a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
    .topbar{display:flex;align-items:center;gap:24px;padding:0 24px;height:52px;background:#1d2330;color:#fff}
    .brand{font-weight:700;letter-spacing:.02em}
    .topbar nav{display:flex;gap:4px;flex:1}
    .topbar nav a{color:#c9d1e0;padding:6px 10px;border-radius:6px}
    .topbar nav a.active,.topbar nav a:hover{background:#2d3548;color:#fff;text-decoration:none}
    .who{display:flex;gap:10px;align-items:center;color:#c9d1e0;font-size:13px}
    .who .tenant{font-weight:600;color:#fff}
    .role{padding:1px 8px;border-radius:10px;background:#2d3548}
    main{max-width:1280px;margin:0 auto;padding:20px 24px 48px}
    h1{font-size:22px;margin:4px 0 16px;display:flex;gap:12px;align-items:center}
    h2{font-size:16px;margin:24px 0 8px}
    section{margin-bottom:12px}
    .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px}
    .card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:12px 16px}
    .card h3{margin:0;font-size:12px;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
    .figure{font-size:26px;font-weight:650;margin:6px 0 2px;font-variant-numeric:tabular-nums}
    .sub{margin:0;color:var(--muted);font-size:12px}.sub.warn{color:var(--warn)}
    table.data{width:100%;border-collapse:collapse;background:var(--panel);border:1px solid var(--line);border-radius:8px;overflow:hidden}
    table.data th,table.data td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
    table.data th{font-size:12px;color:var(--muted);font-weight:600;background:#fafbfc}
    table.data tr:last-child td{border-bottom:none}
    .num,table.data .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
    .mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
    .clip{max-width:340px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
    .muted{color:var(--muted)}
    .empty{color:var(--muted);background:var(--panel);border:1px dashed var(--line);border-radius:8px;padding:16px}
    .pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#eef0f3;color:var(--muted)}
    .pill.ok{background:#e6f4ec;color:var(--ok)}.pill.warn{background:#fdf3e1;color:var(--warn)}.pill.bad{background:#fbe9e7;color:var(--bad)}
    .banner{padding:10px 14px;border-radius:8px;margin:0 0 14px}
    .banner.error{background:#fbe9e7;color:#7d2318;border:1px solid #f3c2bb}
    .banner.info{background:#e8effc;border:1px solid #c6d5f5}
    .banner.secret{background:#fff8e1;border:1px solid #f0d58a}
    .secret-value{display:block;padding:8px;background:#fff;border:1px solid var(--line);border-radius:6px;word-break:break-all;user-select:all}
    form.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 12px;margin-bottom:14px}
    form.filters label,form.stack label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:3px}
    form.stack{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:10px;align-items:end;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:12px;margin:8px 0 16px}
    fieldset.checks{border:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:4px 12px;align-items:center}
    fieldset.checks legend{font-size:12px;color:var(--muted);padding:0;margin-bottom:3px}
    form.stack fieldset.checks label{flex-direction:row;align-items:center;gap:4px;color:var(--ink);font-size:13px}
    form.stack .wide{grid-column:span 2}
    input,select,textarea{font:inherit;padding:5px 8px;border:1px solid #cfd4dc;border-radius:6px;background:#fff;color:var(--ink)}
    textarea{min-height:70px;font-family:ui-monospace,Menlo,monospace;font-size:12px}
    button,.button{font:inherit;padding:5px 12px;border-radius:6px;border:1px solid #cfd4dc;background:#fff;color:var(--ink);cursor:pointer;font-size:13px}
    button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
    button.danger{color:var(--bad);border-color:#efc1bb}
    button.link{border:none;background:none;color:#c9d1e0;padding:0}
    form.inline{display:inline}
    td.actions{white-space:nowrap;text-align:right}td.actions form{display:inline-flex;gap:4px;margin-left:6px}
    td.actions input{width:90px}
    .login-box{max-width:360px;margin:80px auto;background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:24px}
    .login-box form{display:flex;flex-direction:column;gap:12px}.login-box label{display:flex;flex-direction:column;gap:4px;font-size:13px}
    .chart{margin:0;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px}
    .chart>svg{width:100%;height:auto;display:block}
    .legend li{display:flex;align-items:center;gap:6px}.legend svg{flex:none}
    .legend{list-style:none;display:flex;flex-wrap:wrap;gap:14px;padding:0;margin:6px 0 0;font-size:12px}
    .grid{stroke:#eceef2}.axis{fill:var(--muted);font-size:11px}
    .s0{fill:#2f5bd3}.s1{fill:#17a2b8}.s2{fill:#e67e22}.s3{fill:#8e44ad}.s4{fill:#27ae60}.s5{fill:#c0392b}.s6{fill:#f1c40f}.s7{fill:#7f8c8d}.s8{fill:#d35400}.s9{fill:#34495e}
    .budget-bar .track{fill:#eef0f3}.budget-bar .range{fill:#d8e2f8}.budget-bar .spent{fill:#2f5bd3}.budget-bar .spent.over{fill:var(--bad)}
    .budget-bar .projected{stroke:#1d2330;stroke-width:2}.budget-bar .budget{stroke:var(--bad);stroke-width:2;stroke-dasharray:3 2}
    .subnav{display:flex;gap:6px;margin:0 0 14px;flex-wrap:wrap}.subnav a{padding:5px 10px;border-radius:6px;border:1px solid var(--line);background:var(--panel)}
    .subnav a.active{background:var(--accent);color:#fff;border-color:var(--accent)}
    .waterfall td.bar{width:46%;padding:4px 10px}.waterfall svg{width:100%;height:14px;display:block}
    .waterfall .lane{fill:#f2f4f7}
    .waterfall .k-llm{fill:#2f5bd3}.waterfall .k-tool{fill:#e67e22}.waterfall .k-agent{fill:#8e44ad}.waterfall .k-chain{fill:#17a2b8}
    .waterfall .k-retriever{fill:#27ae60}.waterfall .k-embedding{fill:#16a085}.waterfall .k-other{fill:#7f8c8d}
    .waterfall .err{fill:var(--bad)}
    .waterfall tr.span-row{cursor:pointer}.waterfall tr.span-row:hover td{background:#f7f9fc}
    .waterfall tr.is-error td.name{color:var(--bad);font-weight:600}
    .waterfall tr.span-detail td{background:#fafbfc}
    .waterfall tr.span-detail[hidden]{display:none}
    pre{white-space:pre-wrap;word-break:break-word;background:#f6f7f9;border:1px solid var(--line);border-radius:6px;padding:8px;font-size:12px;max-height:280px;overflow:auto}
    .explain{background:var(--panel);border:1px solid var(--line);border-left:4px solid var(--accent);border-radius:8px;padding:12px 16px}
    .explain.failed{border-left-color:var(--bad)}
    .pager{display:flex;justify-content:space-between;margin-top:10px}
    .error-page{max-width:640px;margin:60px auto;background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:24px}
    ul.plain{list-style:none;margin:0;padding:0}
    """#

    /// Progressive enhancement only: every page works without it.
    static let javascript = #"""
    (function () {
      "use strict";
      // Filters submit when a select changes.
      document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
        select.addEventListener("change", function () { if (select.form) { select.form.submit(); } });
      });
      // Destructive forms ask first.
      document.querySelectorAll("form[data-confirm]").forEach(function (form) {
        form.addEventListener("submit", function (event) {
          if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
        });
      });
      // Waterfall rows toggle their span's details.
      document.querySelectorAll("tr.span-row").forEach(function (row) {
        row.addEventListener("click", function () {
          var detail = document.getElementById("detail-" + row.getAttribute("data-span-id"));
          if (detail) { detail.hidden = !detail.hidden; }
        });
      });
    })();
    """#
}
