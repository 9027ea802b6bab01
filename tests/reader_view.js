// Measures what a reader sees on one page of the built book (run by tests/test_site.py after
// the page, its formulas and its figures have rendered). Returns plain JSON.
() => {
  const article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
  const viewportRight = document.documentElement.clientWidth;
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  const snippet = (text) => text.replace(/\s+/g, " ").trim().slice(0, 80);
  // A scroll container with a visible cue: scroll shadows (gradients attached to the content)
  // that show on any platform, overlay scrollbars included.
  const scrolls = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
  const cue = (el) => {
    const style = getComputedStyle(el);
    return scrolls(el) && /gradient/.test(style.backgroundImage) && /local/.test(style.backgroundAttachment);
  };
  const clipper = (el) => {
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      if (getComputedStyle(node).overflowX !== "visible") return node;
    }
    return null;
  };
  const kind = (el) => el.closest(".cell_input") ? "code" : el.closest(".cell_output, .output") ? "output" : "text";

  // 1. Clipped content: a box whose content runs past what is visible, without a scroll cue.
  const clipped = [];
  const boxes = article.querySelectorAll("pre, table, mjx-container[display='true'], .cell_output > .output, img");
  for (const el of boxes) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    let hidden = 0;
    if (getComputedStyle(el).overflowX !== "visible") {
      if (el.scrollWidth > el.clientWidth + 1 && !cue(el)) hidden = el.scrollWidth - el.clientWidth;
    } else {
      const contentRight = r.left + Math.max(r.width, el.scrollWidth);
      const box = clipper(el);
      const visibleRight = box ? Math.min(box.getBoundingClientRect().left + box.clientWidth, viewportRight) : viewportRight;
      if (contentRight > visibleRight + 1 && !(box && cue(box))) hidden = contentRight - visibleRight;
    }
    if (hidden > 1) clipped.push({kind: kind(el), tag: el.tagName.toLowerCase(), hidden: Math.round(hidden), text: snippet(el.textContent)});
  }

  // 2. Figures: drawn, plot area, titles inside the figure and not overprinting each other.
  const figures = [];
  for (const gd of article.querySelectorAll(".plotly-graph-div")) {
    const layout = gd._fullLayout;
    const drawn = Boolean(layout && gd.querySelector(".main-svg"));
    const box = gd.getBoundingClientRect();
    const problems = [];
    let plot = [0, 0];
    if (drawn) {
      plot = [Math.round(layout._size.w), Math.round(layout._size.h)];
      const labels = [...gd.querySelectorAll(".gtitle, .g-xtitle text, .g-ytitle text, .g-x2title text, .annotation-text")]
        .filter(shown);
      const rects = labels.map((t) => t.getBoundingClientRect());
      const right = Math.min(box.right, viewportRight);
      rects.forEach((t, i) => {
        if (t.left < box.left - 1 || t.right > right + 1 || t.top < box.top - 1 || t.bottom > box.bottom + 1) {
          problems.push(`title cut: "${snippet(labels[i].textContent)}"`);
        }
        rects.slice(0, i).forEach((u, j) => {
          const w = Math.min(t.right, u.right) - Math.max(t.left, u.left);
          const h = Math.min(t.bottom, u.bottom) - Math.max(t.top, u.top);
          if (w > 2 && h > 2) problems.push(`overlap: "${snippet(labels[j].textContent)}" / "${snippet(labels[i].textContent)}"`);
        });
      });
    }
    const heading = gd.previousElementSibling;
    const title = heading && heading.classList.contains("abteach-figure-title") ? snippet(heading.textContent)
      : layout && layout.title && layout.title.text ? snippet(layout.title.text) : gd.id;
    figures.push({id: gd.id, title, drawn, plot, problems});
  }

  // 3. Text the reader should never see: `$`, raw \( \), Markdown table rules.
  const literal = {dollar: [], rawMath: [], markdownTable: []};
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest("script, style, mjx-container, .cell_input, textarea")) continue;
    if (!shown(parent)) continue;
    const text = node.textContent;
    const inOutput = Boolean(parent.closest(".cell_output"));
    const inCode = Boolean(parent.closest("pre, code, .highlight"));
    // An amount in dollars ("$77,000") is prose; any other `$` is a formula that did not render.
    if (!inOutput && !inCode && /\$(?!\d)/.test(text)) literal.dollar.push(snippet(text));
    if (!inCode && /\\\(|\\\)|\\\[|\\\]/.test(text)) literal.rawMath.push(snippet(text));
    // A Markdown table that was not rendered, in prose or in an output (the typographer may have
    // turned its `---` into dashes).
    if ((inOutput || !inCode) && /\|\s*:?(-{3,}|[\u2013\u2014]+):?\s*\|/.test(text)) literal.markdownTable.push(snippet(text));
  }
  const hasMath = Boolean(article.querySelector("mjx-container, .math"));
  return {clipped, figures, literal, hasMath, mathjax: Boolean(window.MathJax && window.MathJax.startup)};
}
