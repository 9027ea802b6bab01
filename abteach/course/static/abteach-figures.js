// Fit every plotly figure of the page to its column, at any width from a phone to a wide
// screen: the title moves above the figure as text (it wraps), subplot and axis titles wrap
// onto several lines (the rows move apart to hold them), margins shrink, and on a phone the
// font gets smaller, a side legend moves below and long category labels take two lines. Loaded after plotly.min.js
// on the pages that draw figures (abteach.course.sphinx_plotly); runs again on every resize.
(function () {
  "use strict";
  var CHAR = 0.62;  // average width of a character, in font sizes (generous)

  function wrap(text, chars) {
    if (!text) return text;
    var plain = String(text).replace(/<br\s*\/?>/gi, " ").replace(/\s+/g, " ").trim();
    // Words longer than a line break after their underscores (metric names).
    var words = [].concat.apply([], plain.split(" ").map(function (word) {
      return word.length > chars ? word.replace(/_/g, "_ ").split(" ") : [word];
    }));
    var lines = [], line = "";
    words.forEach(function (word) {
      var glue = /_$/.test(line) ? "" : " ";
      if (line && (line + glue + word).replace(/<[^>]+>/g, "").length > chars) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + glue + word : word;
      }
    });
    if (line) lines.push(line);
    return lines.join("<br>");
  }

  function isSubplotTitle(a) {
    return a.showarrow === false && a.xref && a.xref.indexOf("paper") === 0
      && a.yanchor === "bottom" && a.xanchor === "center";
  }

  function fit(gd) {
    var width = gd.clientWidth;
    if (!width || !gd.layout || !window.Plotly) return;
    if (!gd._abteach) {
      gd._abteach = {
        title: gd.layout.title && gd.layout.title.text,
        annotations: (gd.layout.annotations || []).map(function (a) { return a.text; }),
        annotationY: (gd.layout.annotations || []).map(function (a) { return a.y; }),
        annotationSize: (gd.layout.annotations || []).map(function (a) { return a.font && a.font.size; }),
        plotHeight: gd._fullLayout._size.h,
        legend: JSON.parse(JSON.stringify(gd.layout.legend || {})),
        height: gd._fullLayout.height,
        axisTitles: {},
        domains: {},
        width: -1,
      };
    }
    var saved = gd._abteach;
    if (saved.width === width) return;
    saved.width = width;
    var narrow = width < 560;
    var fontSize = narrow ? 11 : 13;
    var update = {
      "font.size": fontSize,
      "margin.l": narrow ? 10 : 20,
      "margin.r": narrow ? 10 : 20,
      "margin.b": narrow ? 10 : 20,
    };
    update.legend = saved.legend;
    update.height = saved.height;
    if (narrow && gd._fullLayout.showlegend && saved.legend.orientation !== "h") {
      // A legend beside the plot would take half a phone's width: put it below, and make the
      // figure taller by the legend's rows, so the plot keeps its height.
      update.legend = Object.assign({}, saved.legend,
        {orientation: "h", x: 0, xanchor: "left", y: -0.25, yanchor: "top"});
      var entries = gd._fullData.filter(function (t) { return t.showlegend !== false; }).length;
      update.height = saved.height + 22 * Math.ceil(entries / 2);
    }
    Object.keys(gd._fullLayout).forEach(function (key) {
      if (!/^[xy]axis\d*$/.test(key)) return;
      var axis = gd._fullLayout[key];
      update[key + ".automargin"] = true;
      update[key + ".title.standoff"] = 6;
      if (!(key in saved.axisTitles)) {
        var given = (gd.layout[key] || {}).title;
        saved.axisTitles[key] = typeof given === "string" ? given : given && given.text;
      }
      var axisTitle = saved.axisTitles[key];
      if (axisTitle && key[0] === "x" && axis.domain) {
        var room = Math.floor(width * (axis.domain[1] - axis.domain[0]) / (fontSize * CHAR));
        update[key + ".title.text"] = wrap(axisTitle, Math.max(8, room));
      }
      var rowRoom = key[0] === "x" || (axis._categories && axis._categories.length
        && gd._fullLayout._size.h / axis._categories.length >= 3 * (fontSize + 2));
      if (narrow && axis.type === "category" && axis._categories && rowRoom
          && axis._categories.some(function (c) { return String(c).length > 10; })) {
        // Long category labels on a phone: on two or three lines where the rows have room,
        // so the plot keeps its width.
        update[key + ".tickmode"] = "array";
        update[key + ".tickvals"] = axis._categories.slice();
        update[key + ".ticktext"] = axis._categories.map(function (c) { return wrap(String(c), 10); });
      }
    });
    if (saved.title) {
      // The figure's title goes above the figure as text, which wraps at any width (a title
      // drawn by plotly is one line, cut at the figure's edge).
      var heading = gd.previousElementSibling;
      if (!heading || !heading.classList.contains("abteach-figure-title")) {
        heading = document.createElement("div");
        heading.className = "abteach-figure-title";
        heading.setAttribute("role", "heading");
        heading.setAttribute("aria-level", "4");
        gd.parentNode.insertBefore(heading, gd);
      }
      heading.innerHTML = saved.title;
      update["title.text"] = "";
    }
    var extra = 0;
    var annotations = (gd.layout.annotations || []).map(function (a, i) {
      var text = saved.annotations[i];
      if (!isSubplotTitle(a) || !text) return a;
      var span = 1;
      Object.keys(gd._fullLayout).forEach(function (key) {
        var axis = gd._fullLayout[key];
        if (/^xaxis\d*$/.test(key) && axis.domain && a.x >= axis.domain[0] - 1e-9 && a.x <= axis.domain[1] + 1e-9) {
          span = Math.min(span, axis.domain[1] - axis.domain[0]);
        }
      });
      var size = narrow ? fontSize + 2 : (saved.annotationSize[i] || fontSize + 3);
      var chars = Math.max(10, Math.floor(width * span / (size * CHAR)));
      var wrapped = wrap(text, chars);
      extra = Math.max(extra, wrapped.split("<br>").length - 1);
      return Object.assign({}, a, {text: wrapped, font: Object.assign({}, a.font, {size: size})});
    });
    var grow = spaceRows(gd, saved, annotations, fontSize, update);
    update.height += grow;
    if (annotations.length) update.annotations = annotations;
    var menus = (gd.layout.updatemenus || []).length ? 40 : 0;  // room for a drop-down menu
    update["margin.t"] = 30 + menus + extra * (fontSize + 6);
    window.Plotly.relayout(gd, update).then(function () { gd.dataset.fitted = String(width); });
  }

  // Subplot titles that wrap onto several lines need room above their row: move the rows
  // apart (the figure grows by the room added) and keep each title on top of its row.
  function spaceRows(gd, saved, annotations, fontSize, update) {
    var full = gd._fullLayout;
    var axes = Object.keys(full).filter(function (k) { return /^yaxis\d*$/.test(k) && full[k].domain; });
    axes.forEach(function (k) {
      if (!saved.domains[k]) saved.domains[k] = full[k].domain.slice();
    });
    var tops = [];
    axes.forEach(function (k) {
      var top = saved.domains[k][1];
      if (!tops.some(function (t) { return Math.abs(t - top) < 1e-6; })) tops.push(top);
    });
    if (tops.length < 2) return 0;
    tops.sort(function (a, b) { return b - a; });
    var line = fontSize + 6;
    var extra = tops.map(function (top, row) {
      if (row === 0) return 0;  // the top margin holds the first row's titles
      var lines = 1;
      annotations.forEach(function (a, i) {
        if (isSubplotTitle(a) && Math.abs(saved.annotationY[i] - top) < 1e-6) {
          lines = Math.max(lines, String(a.text).split("<br>").length);
        }
      });
      return (lines - 1) * line;
    });
    var added = extra.reduce(function (a, b) { return a + b; }, 0);
    var plot = saved.plotHeight;
    var total = plot + added;
    var shift = function (y) {  // a paper y of the original layout -> the spaced layout
      var px = (1 - y) * plot;
      tops.forEach(function (top, row) { if (y <= top + 1e-6) px += extra[row]; });
      return 1 - px / total;
    };
    axes.forEach(function (k) {
      var d = saved.domains[k];
      update[k + ".domain"] = [shift(d[0]), shift(d[1])];
    });
    annotations.forEach(function (a, i) {
      if (isSubplotTitle(a)) a.y = shift(saved.annotationY[i]);
    });
    return added;
  }

  function fitAll() {
    document.querySelectorAll(".plotly-graph-div").forEach(fit);
  }

  window.abteachFigures = {fit: fit};
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(fitAll, 150);
  });
  if (document.readyState === "complete") fitAll();
  else window.addEventListener("load", fitAll);
})();
