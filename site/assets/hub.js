/* eBPF Hub: the package list's filter, "did you mean" in search, and a few accessibility fixes
   to the theme's markup. Self-hosted, no dependency, no request but the site's own names list. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("__config").textContent);
  var base = new URL(config.base.replace(/\/?$/, "/"), location.href);

  /* Optimal string alignment distance, stopping early past `limit`. */
  function distance(a, b, limit) {
    if (Math.abs(a.length - b.length) > limit) return limit + 1;
    var previous2 = [], previous = [], current;
    for (var j = 0; j <= b.length; j++) previous[j] = j;
    for (var i = 1; i <= a.length; i++) {
      current = [i];
      var best = i;
      for (j = 1; j <= b.length; j++) {
        var cost = a[i - 1] === b[j - 1] ? 0 : 1;
        var value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
          value = Math.min(value, previous2[j - 2] + 1);
        }
        current[j] = value;
        best = Math.min(best, value);
      }
      if (best > limit) return limit + 1;
      previous2 = previous;
      previous = current;
    }
    return previous[b.length];
  }

  /* How many typos a word of this length may hold and still name a package. */
  function tolerance(word) {
    return word.length < 4 ? 0 : word.length < 8 ? 1 : 2;
  }

  /* Package names within the tolerance of `word`, nearest first (none when it is one). */
  function nearNames(word, names) {
    if (names.indexOf(word) >= 0) return [];
    var limit = tolerance(word), found = [];
    names.forEach(function (name) {
      var d = distance(word, name, limit);
      if (d <= limit) found.push([d, name]);
    });
    found.sort(function (x, y) { return x[0] - y[0] || (x[1] < y[1] ? -1 : 1); });
    return found.slice(0, 3).map(function (pair) { return pair[1]; });
  }

  function words(text) {
    return text.toLowerCase().split(/[^a-z0-9_.-]+/).filter(Boolean);
  }

  /* ---- /packages/: filter, facets, kernel, sort; state kept in the URL's query. ---- */
  function setUpList(form) {
    var list = document.querySelector("ul.hub-list");
    var rows = Array.prototype.slice.call(list.children);
    var names = rows.map(function (row) { return row.dataset.name; });
    var status = form.querySelector(".hub-filter__status");
    var text = form.elements.q, sort = form.elements.sort, kernel = form.elements.kernel;
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox]"));
    var sorted = "name";  /* the order the page comes in */

    function kernelParts(version) {
      return version.split(".").map(Number);
    }
    function kernelAtMost(version, limit) {
      var a = kernelParts(version), b = kernelParts(limit);
      for (var i = 0; i < Math.max(a.length, b.length); i++) {
        if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) < (b[i] || 0);
      }
      return true;
    }

    function apply() {
      var query = words(text.value);
      var near = {};
      query.forEach(function (word) {
        nearNames(word, names).forEach(function (name) { near[name] = true; });
      });
      var checked = {};
      boxes.forEach(function (box) {
        if (box.checked) (checked[box.name] = checked[box.name] || []).push(box.value);
      });
      var shown = 0;
      rows.forEach(function (row) {
        var match = query.every(function (word) {
          return row.dataset.text.indexOf(word) >= 0;
        }) || near[row.dataset.name] === true;
        Object.keys(checked).forEach(function (key) {
          var values = row.dataset[key].split(" ");
          if (!checked[key].some(function (v) { return values.indexOf(v) >= 0; })) match = false;
        });
        if (kernel.value && row.dataset.kernel && !kernelAtMost(row.dataset.kernel, kernel.value)) {
          match = false;
        }
        row.hidden = !match;
        if (match) shown++;
      });
      if (sort.value !== sorted) {
        /* Moving every row costs more than hiding it: only when the order changes. */
        var order = rows.slice();
        if (sort.value === "updated") {
          order.sort(function (a, b) {
            return a.dataset.updated === b.dataset.updated
              ? (a.dataset.name < b.dataset.name ? -1 : 1)
              : (a.dataset.updated < b.dataset.updated ? 1 : -1);
          });
        }
        list.append.apply(list, order);
        sorted = sort.value;
      }
      var typo = Object.keys(near).length && shown ? " (names close to what you typed included)" : "";
      status.textContent = shown + " of " + rows.length + " packages" + typo;
      var state = new URLSearchParams(new FormData(form));
      ["q", "kernel"].forEach(function (key) { if (!state.get(key)) state.delete(key); });
      if (state.get("sort") === "name") state.delete("sort");
      var search = state.toString();
      history.replaceState(null, "", location.pathname + (search ? "?" + search : ""));
    }

    var initial = new URLSearchParams(location.search);
    text.value = initial.get("q") || "";
    sort.value = initial.get("sort") === "updated" ? "updated" : "name";
    kernel.value = initial.get("kernel") || "";
    boxes.forEach(function (box) {
      box.checked = initial.getAll(box.name).indexOf(box.value) >= 0;
    });
    /* The facets are folded, so as not to push the list out of sight, unless some are set. */
    if (boxes.some(function (box) { return box.checked; })) {
      form.querySelector("details.hub-facets").open = true;
    }
    form.addEventListener("input", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    apply();
  }

  /* ---- Search: "did you mean" for a word a typo away from a package name. ---- */
  function setUpSuggestions() {
    var input = document.querySelector("input.md-search__input");
    var result = document.querySelector(".md-search-result");
    if (!input || !result) return;
    var names = null, loading = null;
    var box = document.createElement("p");
    box.className = "hub-didyoumean";
    box.setAttribute("role", "status");
    box.hidden = true;
    result.parentNode.insertBefore(box, result);

    function load() {
      loading = loading || fetch(new URL("search/package-names.json", base))
        .then(function (response) { return response.json(); })
        .then(function (list) { names = list; });
      return loading;
    }
    function suggest() {
      var seen = {};
      var near = [];
      words(input.value).forEach(function (word) {
        nearNames(word, names || []).forEach(function (name) {
          if (!seen[name]) { seen[name] = true; near.push(name); }
        });
      });
      box.textContent = "";
      box.hidden = near.length === 0;
      if (!near.length) return;
      box.appendChild(document.createTextNode("Did you mean "));
      near.forEach(function (name, index) {
        if (index) box.appendChild(document.createTextNode(", "));
        var link = document.createElement("a");
        link.href = new URL("packages/" + name + "/", base).href;
        link.textContent = name;
        box.appendChild(link);
      });
      box.appendChild(document.createTextNode("?"));
    }
    input.addEventListener("focus", load);
    input.addEventListener("input", function () { load().then(suggest); });
  }

  /* ---- The theme's markup: names for its landmarks, a keyboard way into search, tables that
     scroll sideways say so and take the focus. ---- */
  function fixMarkup() {
    var dialog = document.querySelector(".md-search");
    if (dialog) dialog.setAttribute("aria-label", "Search the catalogue");
    document.querySelectorAll("nav.md-tags").forEach(function (nav) {
      nav.setAttribute("aria-label", "Categories of this page");
    });
    document.querySelectorAll("[data-hub-search]").forEach(function (button) {
      button.addEventListener("click", function () {
        var toggle = document.getElementById("__search");
        toggle.checked = true;
        toggle.dispatchEvent(new Event("change"));
        document.querySelector("input.md-search__input").focus();
      });
    });
  }

  function fixTables() {
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (wrap) {
      if (wrap.scrollWidth <= wrap.clientWidth + 1) return;
      wrap.tabIndex = 0;
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", "Table, scrolls sideways");
      var hint = document.createElement("p");
      hint.className = "hub-scroll-hint";
      hint.textContent = "Scroll the table sideways for more columns →";
      wrap.parentNode.insertBefore(hint, wrap);
    });
  }

  function start() {
    var form = document.querySelector("form.hub-filter");
    if (form) setUpList(form);
    setUpSuggestions();
    fixMarkup();
  }
  /* Tables are wrapped by the theme once it has started: measure them after the load. */
  window.addEventListener("load", fixTables);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
