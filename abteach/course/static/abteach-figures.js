// Fit every plotly figure of the page to its column, at any width from a phone to a wide
// screen: long titles and subplot titles wrap onto several lines (the top margin grows to hold
// them), margins shrink and the font gets smaller on narrow screens. Loaded after plotly.min.js
// on the pages that draw figures (abteach.course.sphinx_plotly); runs again on every resize.
(function () {
  "use strict";
  var CHAR = 0.55;  // average width of a character, in font sizes

  function wrap(text, chars) {
    if (!text) return text;
    var plain = String(text).replace(/<br\s*\/?>/gi, " ").replace(/\s+/g, " ").trim();
    var words = plain.split(" "), lines = [], line = "";
    words.forEach(function (word) {
      if (line && (line + " " + word).replace(/<[^>]+>/g, "").length > chars) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
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
        width: -1,
      };
    }
    var saved = gd._abteach;
    if (saved.width === width) return;
    saved.width = width;
    var narrow = width < 560;
    var fontSize = narrow ? 11 : 13;
    var titleSize = narrow ? 14 : 17;
    var update = {
      "font.size": fontSize,
      "title.font.size": titleSize,
      "margin.l": narrow ? 10 : 20,
      "margin.r": narrow ? 10 : 20,
      "margin.b": narrow ? 10 : 20,
    };
    Object.keys(gd._fullLayout).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) {
        update[key + ".automargin"] = true;
        update[key + ".title.standoff"] = 6;
      }
    });
    var titleLines = 0;
    if (saved.title) {
      var title = wrap(saved.title, Math.floor((width - 20) / (titleSize * CHAR)));
      titleLines = title.split("<br>").length;
      update["title.text"] = title;
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
      var chars = Math.max(12, Math.floor(width * span / (fontSize * CHAR)));
      var wrapped = wrap(text, chars);
      extra = Math.max(extra, wrapped.split("<br>").length - 1);
      return Object.assign({}, a, {text: wrapped});
    });
    if (annotations.length) update.annotations = annotations;
    update["margin.t"] = (titleLines ? 30 + titleLines * (titleSize + 6) : 30) + extra * (fontSize + 4);
    update["title.y"] = 1;
    update["title.yref"] = "container";
    update["title.yanchor"] = "top";
    update["title.pad.t"] = 10;
    window.Plotly.relayout(gd, update);
  }

  function fitAll() {
    document.querySelectorAll(".plotly-graph-div").forEach(fit);
  }

  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(fitAll, 150);
  });
  if (document.readyState === "complete") fitAll();
  else window.addEventListener("load", fitAll);
})();
