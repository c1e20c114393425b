/* reprobook search: a plain scan of the index built with the site
   (assets/search-index.js, the same data as search.json). Every word of
   the query must occur in a section; results are ranked by where and how
   often (counted up to 3 times) the words occur, and the words are marked
   in each result. Nothing is sent anywhere. */
(function () {
  var index = window.REPROBOOK_SEARCH || [];
  var form = document.querySelector(".search-page-form");
  var input = document.getElementById("search-page-q");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  if (!form || !input || !list) return;

  function fold(s) {
    return s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  var folded = index.map(function (r) {
    return { title: fold(r.title), section: fold(r.section), text: fold(r.text) };
  });

  function count(hay, word) {
    var n = 0, at = hay.indexOf(word);
    while (at !== -1) { n++; at = hay.indexOf(word, at + word.length); }
    return n;
  }

  function snippet(text, word) {
    var at = fold(text).indexOf(word);
    var start = Math.max(0, at - 80);
    if (start > 0) { var space = text.indexOf(" ", start); if (space !== -1 && space < at) start = space + 1; }
    return (start > 0 ? "… " : "") + text.slice(start, start + 220) + (start + 220 < text.length ? " …" : "");
  }

  // `text` into `el` with each occurrence of the query's words in <mark>;
  // text nodes only, never markup from the index.
  function marked(el, text, words) {
    var f = "", map = [], spans = [], pos = 0;
    for (var i = 0; i < text.length; i++) {
      var c = fold(text[i]);
      for (var k = 0; k < c.length; k++) { f += c[k]; map.push(i); }
    }
    words.forEach(function (w) {
      for (var at = f.indexOf(w); at !== -1; at = f.indexOf(w, at + w.length))
        spans.push([map[at], map[at + w.length - 1] + 1]);
    });
    spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    spans.forEach(function (s) {
      if (s[0] < pos) return;
      el.appendChild(document.createTextNode(text.slice(pos, s[0])));
      var m = document.createElement("mark");
      m.textContent = text.slice(s[0], s[1]);
      el.appendChild(m);
      pos = s[1];
    });
    el.appendChild(document.createTextNode(text.slice(pos)));
  }

  function search(query) {
    var words = fold(query).split(/\s+/).filter(Boolean);
    list.textContent = "";
    if (!words.length) { status.textContent = ""; return; }
    var hits = [];
    folded.forEach(function (f, i) {
      var score = 0;
      for (var w = 0; w < words.length; w++) {
        var inText = count(f.text, words[w]);
        var inHead = count(f.section, words[w]) + count(f.title, words[w]);
        if (!inText && !inHead) return;
        score += Math.min(inText, 3) + 5 * inHead; // a long page does not outrank a focused section
      }
      hits.push({ i: i, score: score });
    });
    hits.sort(function (a, b) { return b.score - a.score || a.i - b.i; });
    hits.slice(0, 50).forEach(function (hit) {
      var r = index[hit.i];
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = r.page + (r.anchor ? "#" + r.anchor : "");
      marked(a, r.section === r.title ? r.title : r.title + ": " + r.section, words);
      var p = document.createElement("p");
      marked(p, snippet(r.text, words[0]), words);
      li.appendChild(a);
      li.appendChild(p);
      list.appendChild(li);
    });
    status.textContent = hits.length === 0 ? "No section contains “" + query + "”."
      : hits.length + (hits.length === 1 ? " section matches" : " sections match") + " “" + query + "”.";
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = input.value;
    history.replaceState(null, "", "?q=" + encodeURIComponent(q));
    search(q);
  });
  var q = new URLSearchParams(window.location.search).get("q") || "";
  input.value = q;
  search(q);
})();
