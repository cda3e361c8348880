// newswatch analyst page. Plain script, no library: the pages are server-rendered and work
// without it; this adds the live alert list, the query tester's results as you type, and the
// buttons that change state, which call the JSON API (/api/v1) with application/json.
"use strict";

(function () {
  const page = document.body.dataset.page;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) e.setAttribute(k, v);
    }
    for (const k of kids) {
      if (k !== null && k !== undefined) e.append(k);
    }
    return e;
  }

  function clock(iso) {
    const d = new Date(iso);
    // As the server writes it: "2 Dec 15:04 UTC".
    return d.toUTCString().replace(/^\w+, 0?/, "").replace(/:\d\d GMT$/, " UTC").replace(/ (\d{4}) /, " ");
  }

  // api sends a JSON request to the API; with http.token set it carries the token the user
  // typed (kept for this tab only).
  async function api(method, url, body) {
    // Every state change says it is JSON, with or without a body: the API refuses the
    // content types a cross-site form can send.
    const headers = { "Accept": "application/json", "Content-Type": "application/json" };
    const token = sessionStorage.getItem("newswatch-token");
    if (token) headers["Authorization"] = "Bearer " + token;
    const resp = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    const text = await resp.text();
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
    return { status: resp.status, ok: resp.ok, data };
  }

  function say(id, msg) {
    const s = document.getElementById(id);
    if (s) s.textContent = msg;
  }

  // ---- live alerts ----
  function liveAlerts() {
    const list = document.getElementById("alert-list");
    const topicSel = document.getElementById("f-topic");
    const kindSel = document.getElementById("f-kind");
    const empty = document.getElementById("no-alerts");
    const baseTitle = document.title;
    let unseen = 0;
    const seen = new Set();
    for (const li of list.children) seen.add(li.dataset.id);

    function showTitle() {
      document.title = unseen > 0 ? "(" + unseen + ") " + baseTitle : baseTitle;
    }
    function markSeen() {
      unseen = 0;
      for (const li of list.querySelectorAll("li.alert.new")) li.classList.remove("new");
      showTitle();
    }
    function visible(li) {
      return (!topicSel.value || li.dataset.topic === topicSel.value) && (!kindSel.value || li.dataset.kind === kindSel.value);
    }
    function applyFilters() {
      let any = false;
      for (const li of list.children) {
        li.hidden = !visible(li);
        any = any || !li.hidden;
      }
      empty.hidden = any;
      const q = new URLSearchParams();
      if (topicSel.value) q.set("topic", topicSel.value);
      if (kindSel.value) q.set("kind", kindSel.value);
      history.replaceState(null, "", "/alerts" + (q.toString() ? "?" + q : ""));
    }
    function item(a) {
      const name = a.topic_name || a.topic;
      const li = el("li", { class: "alert new", "data-topic": a.topic, "data-kind": a.kind, "data-id": a.id },
        el("p", { class: "meta" },
          el("span", { class: "badge kind-" + a.kind }, a.kind), " ",
          el("a", { href: "/topics/" + encodeURIComponent(a.topic) }, name), " · ",
          el("time", { datetime: a.fired_at }, clock(a.fired_at))));
      if (a.summary) li.append(el("p", {}, a.summary));
      if (a.articles && a.articles.length) {
        const ul = el("ul", { class: "articles" });
        for (const art of a.articles) {
          const row = el("li", {}, el("a", { href: art.url, rel: "noreferrer" }, art.title || art.url), " ",
            el("span", { class: "src" }, art.source));
          if (art.matched && art.matched.length) {
            const terms = el("span", { class: "terms" }, " matched: ");
            art.matched.forEach((t, i) => { if (i) terms.append(", "); terms.append(el("mark", {}, t)); });
            row.append(terms);
          }
          ul.append(row);
        }
        li.append(ul);
      }
      return li;
    }
    topicSel.addEventListener("change", applyFilters);
    kindSel.addEventListener("change", applyFilters);
    document.getElementById("alert-filters").addEventListener("submit", (e) => { e.preventDefault(); applyFilters(); });
    document.getElementById("mark-seen").addEventListener("click", markSeen);
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") setTimeout(markSeen, 3000); });

    const es = new EventSource("/api/v1/alerts/stream");
    es.addEventListener("open", () => say("live-status", "Live: new alerts appear at the top as they fire."));
    es.addEventListener("error", () => say("live-status", "Live stream interrupted; reconnecting…"));
    es.addEventListener("alert", (ev) => {
      let a;
      try { a = JSON.parse(ev.data); } catch (e) { return; }
      if (seen.has(a.id)) return;
      seen.add(a.id);
      const li = item(a);
      li.hidden = !visible(li);
      list.prepend(li);
      while (list.children.length > 500) list.lastElementChild.remove();
      if (!li.hidden) {
        empty.hidden = true;
        unseen++;
        showTitle();
        say("live-status", "New " + a.kind + " alert: " + (a.topic_name || a.topic));
      }
    });
  }

  // ---- query tester and search: results as you type ----
  function liveResults(formId, path) {
    const form = document.getElementById(formId);
    const results = document.getElementById("results");
    let timer = null, ctrl = null;
    async function run() {
      const q = new URLSearchParams(new FormData(form));
      history.replaceState(null, "", path + "?" + q);
      q.set("partial", "1");
      if (ctrl) ctrl.abort();
      ctrl = new AbortController();
      try {
        const resp = await fetch(path + "?" + q, { signal: ctrl.signal, headers: { "Accept": "text/html" } });
        results.innerHTML = await resp.text(); // server-rendered, escaped by html/template
      } catch (e) {
        if (e.name !== "AbortError") results.textContent = "Could not run the query: " + e.message;
      }
    }
    function soon() { clearTimeout(timer); timer = setTimeout(run, 250); }
    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
    form.addEventListener("submit", (e) => { e.preventDefault(); clearTimeout(timer); run(); });
    const topic = document.getElementById("q-topic");
    if (topic) {
      topic.addEventListener("change", () => {
        const opt = topic.selectedOptions[0];
        if (opt) document.getElementById("q").value = opt.dataset.query || "";
      });
    }
  }

  // ---- silences ----
  function needToken(status, r) {
    if (r.status !== 401) return false;
    document.getElementById("token-row").hidden = false;
    say(status, "This daemon has http.token set: enter the token and try again.");
    document.getElementById("sil-token").focus();
    return true;
  }
  function silences() {
    const form = document.getElementById("silence-form");
    if (form) {
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const tok = document.getElementById("sil-token");
        if (tok && tok.value) sessionStorage.setItem("newswatch-token", tok.value);
        const body = {
          topic: document.getElementById("sil-topic").value,
          duration: document.getElementById("sil-duration").value,
          comment: document.getElementById("sil-comment").value,
        };
        say("silence-status", "Creating…");
        const r = await api("POST", "/api/v1/silences", body);
        if (needToken("silence-status", r)) return;
        if (!r.ok) { say("silence-status", "Not created: " + (r.data && r.data.error || r.status)); return; }
        say("silence-status", "Silence created for " + body.topic + ".");
        location.reload();
      });
    }
    for (const b of document.querySelectorAll("button.expire")) {
      b.addEventListener("click", async () => {
        const r = await api("DELETE", "/api/v1/silences/" + encodeURIComponent(b.dataset.id));
        if (needToken("silence-status", r)) return;
        if (!r.ok) { say("silence-status", "Not expired: " + (r.data && r.data.error || r.status)); return; }
        say("silence-status", "Silence expired.");
        location.reload();
      });
    }
  }

  // ---- feeds: poll now (when the runtime feed API is there) ----
  function feeds() {
    for (const b of document.querySelectorAll("button.poll")) {
      b.addEventListener("click", async () => {
        say("poll-status", "Polling " + b.dataset.feed + "…");
        const r = await api("POST", "/api/v1/feeds/" + encodeURIComponent(b.dataset.feed) + "/poll", {});
        if (!r.ok) { say("poll-status", "Poll failed: " + (r.data && r.data.error || r.status)); return; }
        say("poll-status", "Polled " + b.dataset.feed + ": " + (r.data && (r.data.result || r.data.status) || "done") + ".");
        setTimeout(() => location.reload(), 800);
      });
    }
  }

  if (page === "alerts") liveAlerts();
  if (page === "query") liveResults("query-form", "/query");
  if (page === "search") liveResults("search-form", "/search");
  if (page === "silences") silences();
  if (page === "feeds") feeds();
})();
