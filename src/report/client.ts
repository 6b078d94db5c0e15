/**
 * The page's own script, as text: it reads the embedded plot specs (plots.ts) and draws each with chart.js.
 *
 * Kept as a string literal, not a compiled function's `toString()`, because the page must be the same
 * bytes whichever tool ran the TypeScript (Node's type stripping and vitest's transform print functions
 * differently). Animations are off, so every chart draws synchronously; a plugin counts charts as they
 * finish their first render, and `window.__plotsRendered` is set to that count once all have been built.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  Chart.defaults.animation = false;
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  Chart.defaults.font.size = 11;
  Chart.defaults.color = "#333";

  var rendered = {};
  var countRendered = { id: "pmdRendered", afterRender: function (chart) { rendered[chart.canvas.id] = true; } };

  // chart.js has no error bars: draw each bar's 95% interval as a whisker after the datasets.
  var errorBars = {
    id: "pmdErrorBars",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx, y = chart.scales.y, area = chart.chartArea;
      ctx.save();
      ctx.beginPath();
      ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
      ctx.clip();
      chart.data.datasets.forEach(function (ds, di) {
        var meta = chart.getDatasetMeta(di);
        if (!ds.pmdLo || meta.hidden) return;
        meta.data.forEach(function (el, i) {
          var lo = ds.pmdLo[i], hi = ds.pmdHi[i];
          if (lo === null || hi === null || hi <= lo) return;
          var top = y.getPixelForValue(hi), bottom = y.getPixelForValue(lo), cap = Math.max(3, el.width * 0.25);
          ctx.strokeStyle = "#222"; ctx.lineWidth = 1.2;
          ctx.beginPath();
          ctx.moveTo(el.x, top); ctx.lineTo(el.x, bottom);
          ctx.moveTo(el.x - cap, top); ctx.lineTo(el.x + cap, top);
          ctx.moveTo(el.x - cap, bottom); ctx.lineTo(el.x + cap, bottom);
          ctx.stroke();
        });
      });
      ctx.restore();
    }
  };

  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + ((n >> 16) & 255) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }
  function fmt(spec, v) {
    if (v === null || v === undefined) return "–";
    return spec.percent ? (v * 100).toFixed(1) + "%" : (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
  }
  function valueAxis(spec, title, stacked) {
    return {
      beginAtZero: true, stacked: stacked,
      title: { display: true, text: title },
      // percent axes label fractions as percentages; others keep chart.js's own number format
      ticks: spec.percent ? { callback: function (v) { return Math.round(v * 1000) / 10 + "%"; } } : {}
    };
  }
  // Fractions cannot leave [0, 1], though a t-interval over two seeds can: clamp percent axes there, and make
  // room for the top of every interval (chart.js scales to the bars or lines alone).
  function fitInterval(spec, axis, his) {
    var top = Math.max.apply(null, his.filter(function (v) { return v !== null; }).concat([0]));
    if (spec.percent) {
      axis.min = 0;
      if (top >= 1) axis.max = 1; else axis.suggestedMax = top;
    } else axis.suggestedMax = top;
  }
  function common(spec) {
    return {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: {
        title: { display: true, text: spec.title, font: { size: 13, weight: "bold" } },
        legend: { position: "bottom", labels: { boxWidth: 12, filter: function (item, d) { return !d.datasets[item.datasetIndex].pmdBand; } } }
      }
    };
  }

  function lineConfig(spec) {
    var datasets = [];
    spec.series.forEach(function (s) {
      datasets.push({ label: s.label + " hi", pmdBand: true, data: s.points.map(function (p) { return { x: p.x, y: p.hi }; }),
        borderWidth: 0, pointRadius: 0, pointHitRadius: 0, fill: false, backgroundColor: alpha(s.color, 0.15) });
      datasets.push({ label: s.label + " lo", pmdBand: true, data: s.points.map(function (p) { return { x: p.x, y: p.lo }; }),
        borderWidth: 0, pointRadius: 0, pointHitRadius: 0, fill: "-1", backgroundColor: alpha(s.color, 0.15) });
      datasets.push({ label: s.label, pmdSeries: s, data: s.points.map(function (p) { return { x: p.x, y: p.y }; }),
        borderColor: s.color, backgroundColor: s.color, borderWidth: 2, fill: false,
        pointRadius: s.points.length > 40 ? 0 : 2.5, tension: 0 });
    });
    var o = common(spec);
    o.interaction = { mode: "nearest", intersect: false };
    o.plugins.tooltip = {
      filter: function (item) { return !item.dataset.pmdBand; },
      callbacks: { label: function (item) {
        var p = item.dataset.pmdSeries.points[item.dataIndex];
        return item.dataset.label + ": " + fmt(spec, p.y) + (p.n > 1 ? " [" + fmt(spec, p.lo) + ", " + fmt(spec, p.hi) + "]" : "") + " (n=" + p.n + ")";
      } }
    };
    o.scales = { x: { type: "linear", title: { display: true, text: spec.xLabel } }, y: valueAxis(spec, spec.yLabel, false) };
    o.scales.y.beginAtZero = spec.percent;
    if (spec.percent) fitInterval(spec, o.scales.y, [].concat.apply([], spec.series.map(function (s) { return s.points.map(function (p) { return p.hi; }); })));
    return { type: "line", data: { datasets: datasets }, options: o, plugins: [countRendered] };
  }

  function barConfig(spec) {
    var datasets = spec.series.map(function (s) {
      return { label: s.label, data: s.values, backgroundColor: s.color, borderColor: s.color, borderWidth: 1,
        pmdLo: s.lo, pmdHi: s.hi, pmdN: s.n };
    });
    var o = common(spec);
    o.indexAxis = spec.horizontal ? "y" : "x";
    o.plugins.tooltip = { callbacks: { label: function (item) {
      var ds = item.dataset, i = item.dataIndex, lo = ds.pmdLo[i], hi = ds.pmdHi[i];
      return ds.label + ": " + fmt(spec, ds.data[i]) + (lo !== null && hi !== null && hi > lo ? " [" + fmt(spec, lo) + ", " + fmt(spec, hi) + "]" : "") + " (n=" + ds.pmdN[i] + ")";
    } } };
    var cat = { stacked: spec.stacked, ticks: { autoSkip: false } };
    if (spec.horizontal) o.scales = { y: cat, x: valueAxis(spec, spec.xLabel, spec.stacked) };
    else {
      o.scales = { x: cat, y: valueAxis(spec, spec.yLabel, spec.stacked) };
      if (!spec.stacked) fitInterval(spec, o.scales.y, [].concat.apply([], spec.series.map(function (s) { return s.hi; })));
    }
    return { type: "bar", data: { labels: spec.categories, datasets: datasets }, options: o,
      plugins: spec.horizontal ? [countRendered] : [errorBars, countRendered] };
  }

  var built = 0;
  // One failing chart must not stop the others, nor leave __plotsRendered unset (a test would then only time out).
  data.plots.forEach(function (spec) {
    try {
      new Chart(document.getElementById(spec.id), spec.kind === "line" ? lineConfig(spec) : barConfig(spec));
      built++;
    } catch (e) {
      console.error("pmdsim report: chart " + spec.id + " failed: " + (e && e.message ? e.message : e));
    }
  });
  requestAnimationFrame(function () {
    var n = Object.keys(rendered).length;
    window.__plotsRendered = n;
    document.body.setAttribute("data-plots-rendered", String(n));
    if (n !== data.plots.length) console.error("pmdsim report: " + data.plots.length + " charts specified, " + built + " built, " + n + " rendered");
  });
})();
`
