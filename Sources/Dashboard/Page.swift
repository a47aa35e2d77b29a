/// The page, one file with its style and script, so the server needs nothing beside the binary and the browser
/// fetches nothing from elsewhere. The script reads the token from the page's own address, takes each snapshot from
/// `/events`, fills the tables and draws each chart on a canvas; `data-` attributes on the charts say what was drawn,
/// for the browser test.
enum Page {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>kistick</title>
        <style>
        body { font: 13px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
        header { display: flex; gap: 16px; align-items: center; padding: 10px 16px; background: #1d2330;
          color: #fff; }
        header h1 { font-size: 16px; margin: 0; }
        .badge { padding: 2px 8px; border-radius: 10px; background: #556; }
        .ok { background: #2e7d32; } .bad { background: #c62828; } .warn { background: #ef6c00; }
        header .spacer { flex: 1; }
        button { font: inherit; padding: 4px 12px; border-radius: 4px; border: 1px solid #889; background: #fff;
          cursor: pointer; }
        button.danger { background: #c62828; color: #fff; border-color: #c62828; }
        main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px; padding: 12px; }
        section { background: #fff; border-radius: 6px; padding: 10px 12px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
        section.wide { grid-column: 1 / -1; }
        h2 { font-size: 13px; margin: 0 0 6px; text-transform: uppercase; letter-spacing: .04em; color: #556; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: right; padding: 2px 6px; border-bottom: 1px solid #eee; white-space: nowrap; }
        th:first-child, td:first-child { text-align: left; }
        .pos { color: #c62828; } .neg { color: #1565c0; }
        #charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 10px; }
        figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 2px; }
        canvas { width: 100%; height: 200px; display: block; background: #fcfcfd; border: 1px solid #eee; }
        .empty { color: #99a; }
        </style>
        </head>
        <body data-updates="0">
        <header>
          <h1>kistick</h1>
          <span id="mode" class="badge">…</span>
          <span id="connection" class="badge">connecting</span>
          <span id="clock"></span>
          <span id="state"></span>
          <span class="spacer"></span>
          <button id="pause">Pause entries</button>
          <button id="resume">Resume</button>
          <button id="kill" class="danger">Kill switch</button>
        </header>
        <main>
          <section><h2>Profit and loss (KRW)</h2><table id="pnl"><tbody></tbody></table></section>
          <section><h2>Positions</h2><table id="positions"><thead><tr>
            <th>code</th><th>shares</th><th>average</th><th>last</th><th>unrealised</th>
          </tr></thead><tbody></tbody></table></section>
          <section><h2>Working orders</h2><table id="orders"><thead><tr>
            <th>order</th><th>code</th><th>side</th><th>shares</th><th>filled</th><th>price</th><th>state</th>
          </tr></thead><tbody></tbody></table></section>
          <section><h2>Fills</h2><table id="fills"><thead><tr>
            <th>time</th><th>code</th><th>side</th><th>shares</th><th>price</th>
          </tr></thead><tbody></tbody></table></section>
          <section class="wide"><h2>1-minute candles, with the bot's entries ▲ and exits ▼</h2>
            <div id="charts"></div></section>
          <section><h2>Stage latency</h2><table id="latency"><thead><tr>
            <th>interval</th><th>n</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th>
          </tr></thead><tbody></tbody></table></section>
          <section><h2>Feed, rings, log</h2><table id="counters"><tbody></tbody></table></section>
          <section><h2>Orders</h2><table id="ordercounts"><tbody></tbody></table><ul id="notes"></ul></section>
        </main>
        <script>
        "use strict";
        const token = new URLSearchParams(location.search).get("token") || "";
        const won = n => Number(n).toLocaleString("en-US", { maximumFractionDigits: 2 });
        const signed = n => (n > 0 ? "+" : "") + won(n);
        const hhmmss = ms => new Date(ms + 9 * 3600e3).toISOString().slice(11, 19);
        function duration(ns) {
          if (ns < 1e3) return ns + "ns";
          const [scale, unit] = ns < 1e6 ? [1e3, "µs"] : ns < 1e9 ? [1e6, "ms"] : [1e9, "s"];
          const v = ns / scale;
          return (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)) + unit;
        }
        function cell(text, cls) {
          const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; return td;
        }
        function fill(id, rows, empty) {
          const body = document.querySelector("#" + id + " tbody");
          body.replaceChildren();
          for (const row of rows) {
            const tr = document.createElement("tr");
            for (const c of row) tr.append(c instanceof Node ? c : cell(c));
            body.append(tr);
          }
          if (rows.length === 0 && empty) {
            const tr = document.createElement("tr"); const td = cell(empty, "empty"); td.colSpan = 9;
            tr.append(td); tr.className = "placeholder"; body.append(tr);
          }
        }
        const tone = n => n > 0 ? "pos" : n < 0 ? "neg" : "";
        // Market time, on the bars' axis: the exchange's stamp, else when the engine learnt of it.
        const fillTime = f => f.exchangeTime > 0 ? f.exchangeTime * 1e3 : f.localTs / 1e6;
        function render(s) {
          document.getElementById("mode").textContent = s.mode + " · " + s.environment;
          const t = s.status;
          const conn = document.getElementById("connection");
          const up = t.connectedSessions === t.sessions;
          conn.textContent = (up ? "connected" : "reconnecting") + " · " + t.subscribedCodes + " codes"
            + (t.sessions > 1 ? " · " + t.connectedSessions + "/" + t.sessions + " sessions" : "");
          conn.className = "badge " + (up ? "ok" : "bad");
          document.getElementById("clock").textContent =
            "market " + hhmmss(t.marketTime / 1e6) + " · up " + Math.round(t.wallSeconds) + " s";
          const st = document.getElementById("state");
          st.textContent = t.killSwitch ? "KILL SWITCH ARMED" : t.entriesPaused ? "entries paused" : "";
          st.className = t.killSwitch ? "badge bad" : t.entriesPaused ? "badge warn" : "";
          const net = t.realisedPnL + t.unrealisedPnL;
          fill("pnl", [
            ["realised", cell(signed(t.realisedPnL), tone(t.realisedPnL))],
            ["unrealised", cell(signed(t.unrealisedPnL), tone(t.unrealisedPnL))],
            ["fees", won(t.fees)], ["taxes", won(t.taxes)], ["net", cell(signed(net), tone(net))]]);
          fill("positions", t.positions.map(x => [x.code, won(x.quantity), won(x.averagePrice), won(x.lastPrice),
            cell(signed(x.unrealisedPnL), tone(x.unrealisedPnL))]), "flat");
          fill("orders", t.workingOrders.map(o => ["#" + o.id, o.code, o.side, won(o.quantity), won(o.filled),
            o.price === 0 ? "market" : won(o.price), o.state]), "none working");
          fill("fills", s.fills.slice().reverse().map(f => [hhmmss(fillTime(f)), f.code,
            cell(f.side, f.side === "buy" ? "pos" : "neg"), won(f.quantity), won(f.price)]), "none yet");
          fill("latency", t.latency.map(l => [l.stage, won(l.count), duration(l.p50), duration(l.p90),
            duration(l.p99), duration(l.p999), duration(l.max)]), "no samples yet");
          fill("counters", [["records/s", won(Math.round(s.recordsPerSecond))]]
            .concat(s.counters.map(k => [k.label, won(k.value)])));
          const o = t.orders;
          fill("ordercounts", [["sent", won(o.sent)], ["accepted", won(o.accepted)], ["filled", won(o.filled)],
            ["partly filled", won(o.partiallyFilled)], ["cancelled", won(o.cancelled)], ["rejected", won(o.rejected)],
            ["open", won(o.open)], ["fills", won(o.fills)], ["risk refusals", won(t.riskRejections)]]);
          const notes = document.getElementById("notes"); notes.replaceChildren();
          for (const n of t.notes) { const li = document.createElement("li"); li.textContent = n; notes.append(li); }
          charts(s.charts);
          document.body.dataset.updates = String(Number(document.body.dataset.updates) + 1);
        }
        function charts(list) {
          const box = document.getElementById("charts");
          const seen = new Set();
          for (const chart of list) {
            seen.add(chart.code);
            let canvas = box.querySelector('canvas[data-code="' + chart.code + '"]');
            if (!canvas) {
              const fig = document.createElement("figure"); const cap = document.createElement("figcaption");
              cap.textContent = chart.code;
              canvas = document.createElement("canvas"); canvas.dataset.code = chart.code;
              fig.append(cap, canvas); box.append(fig);
            }
            draw(canvas, chart);
          }
          for (const canvas of [...box.querySelectorAll("canvas")]) {
            if (!seen.has(canvas.dataset.code)) canvas.parentElement.remove();
          }
          if (list.length === 0) box.textContent = "no live codes yet";
          else for (const n of [...box.childNodes]) if (n.nodeType === Node.TEXT_NODE) n.remove();
        }
        function draw(canvas, chart) {
          const ratio = window.devicePixelRatio || 1;
          const w = canvas.clientWidth || 360, h = canvas.clientHeight || 200;
          canvas.width = w * ratio; canvas.height = h * ratio;
          const g = canvas.getContext("2d");
          g.setTransform(ratio, 0, 0, ratio, 0, 0); g.clearRect(0, 0, w, h);
          const bars = chart.candles.slice(-90);
          canvas.dataset.candles = String(bars.length);
          if (bars.length === 0) {
            canvas.dataset.marks = "0"; g.fillStyle = "#99a";
            g.fillText("waiting for the first minute", 10, 20); return;
          }
          const first = bars[0].start * 1e3, last = bars[bars.length - 1].start * 1e3 + 60e3;
          const marks = chart.marks.filter(m => fillTime(m) >= first && fillTime(m) <= last + 60e3);
          let lo = Math.min(...bars.map(b => b.low), ...marks.map(m => m.price));
          let hi = Math.max(...bars.map(b => b.high), ...marks.map(m => m.price));
          if (hi === lo) { hi += 1; lo -= 1; }
          const left = 8, right = 64, top = 10, bottom = 18;
          const step = (w - left - right) / Math.max(bars.length, 20);
          const x = t => left + (t - first) / 60e3 * step;
          const y = v => top + (hi - v) / (hi - lo) * (h - top - bottom);
          g.strokeStyle = "#eee"; g.fillStyle = "#889"; g.font = "10px system-ui";
          for (const v of [hi, (hi + lo) / 2, lo]) {
            g.beginPath(); g.moveTo(left, y(v)); g.lineTo(w - right, y(v)); g.stroke();
            g.fillText(won(Math.round(v)), w - right + 4, y(v) + 3);
          }
          const newest = bars[bars.length - 1].start * 1e3;
          g.fillText(hhmmss(first), left, h - 4);
          g.fillText(hhmmss(newest), Math.max(left + 60, x(newest) - 40), h - 4);
          for (const b of bars) {
            const up = b.close >= b.open, cx = x(b.start * 1e3) + step / 2;
            g.strokeStyle = g.fillStyle = up ? "#d32f2f" : "#1565c0";
            g.beginPath(); g.moveTo(cx, y(b.high)); g.lineTo(cx, y(b.low)); g.stroke();
            const body = y(Math.max(b.open, b.close)), height = Math.max(1, Math.abs(y(b.open) - y(b.close)));
            g.fillRect(cx - Math.max(1, step * 0.35), body, Math.max(2, step * 0.7), height);
          }
          for (const m of marks) {
            const mx = x(fillTime(m)), my = y(m.price), buy = m.side === "buy";
            g.fillStyle = buy ? "#2e7d32" : "#6a1b9a";
            g.beginPath();
            if (buy) { g.moveTo(mx, my); g.lineTo(mx - 6, my + 10); g.lineTo(mx + 6, my + 10); }
            else { g.moveTo(mx, my); g.lineTo(mx - 6, my - 10); g.lineTo(mx + 6, my - 10); }
            g.closePath(); g.fill();
          }
          canvas.dataset.marks = String(marks.length);
        }
        async function post(path) {
          const r = await fetch(path, { method: "POST", headers: { Authorization: "Bearer " + token } });
          if (!r.ok) alert("kistick refused: " + r.status);
        }
        document.getElementById("pause").onclick = () => post("/api/pause");
        document.getElementById("resume").onclick = () => post("/api/resume");
        document.getElementById("kill").onclick = () => {
          const question = "Arm the kill switch? Every order is cancelled, every position sold, no more entries.";
          if (confirm(question)) post("/api/kill?confirm=yes");
        };
        const events = new EventSource("/events?token=" + encodeURIComponent(token));
        events.onmessage = e => render(JSON.parse(e.data));
        events.onerror = () => {
          const c = document.getElementById("connection");
          c.textContent = "page lost kistick"; c.className = "badge bad";
        };
        </script>
        </body>
        </html>
        """#
}
