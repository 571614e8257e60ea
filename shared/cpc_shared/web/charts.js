// Draws every <canvas data-chart> with Chart.js (loaded before this file): the chart's config is JSON in the
// attribute, so no inline script is needed and a strict Content-Security-Policy holds. `"percent": true` shows the
// value axis and the tooltips in per cent. Canvases added later (htmx swapping a section in) are drawn too.
(function () {
  "use strict";
  function percent(config) {
    var axis = config.options.indexAxis === "y" ? "x" : "y";
    var scales = config.options.scales = config.options.scales || {};
    scales[axis] = scales[axis] || {};
    scales[axis].ticks = Object.assign({}, scales[axis].ticks, {callback: function (v) { return v + "%"; }});
    config.options.plugins = config.options.plugins || {};
    config.options.plugins.tooltip = {callbacks: {label: function (c) {
      return c.dataset.label + ": " + c.formattedValue + "%";
    }}};
  }
  function draw(root) {
    Object.values(Chart.instances).forEach(function (chart) {
      if (!chart.canvas.isConnected) chart.destroy();
    });
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (Chart.getChart(canvas)) return;
      var config = JSON.parse(canvas.getAttribute("data-chart"));
      if (config.percent) percent(config);
      delete config.percent;
      new Chart(canvas, config);
    });
  }
  function start() {
    draw(document);
    new MutationObserver(function () { draw(document); }).observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
