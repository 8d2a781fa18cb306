/**
 * The script of the service's page, served at `/assets/upflow.js`: plain JavaScript, no build
 * step. It keeps the token in a variable of its closure (never the URL, cookies or storage),
 * lists the jobs, follows running ones over their NDJSON event streams (bars, inputs/s, ETA,
 * failures as they happen), shows a job's failures with retry and cancel, and uploads dropped
 * files or folders as multipart with per-file labels from their folder names.
 *
 * @module
 */

/** The script. */
export const PAGE_JS = String.raw`"use strict";
(function () {
  var token = ""; // the bearer token: in this closure only
  var $ = function (s) { return document.querySelector(s); };
  var jobs = new Map(); // id -> { record, row, live }
  var selected = "";
  var nextPage = "";
  var pagedFurther = false;
  var LABELS = { uploaded: "uploaded", alreadyUploaded: "already uploaded", present: "present on the server", failed: "failed", rejected: "rejected",
    skipped: "skipped", annotations: "annotations", retries: "retries" };

  function headers(extra) {
    var h = Object.assign({}, extra || {});
    if (token) h.authorization = "Bearer " + token;
    return h;
  }
  function api(path, init) {
    init = init || {};
    return fetch(path, Object.assign({}, init, { headers: headers(init.headers) }));
  }
  async function failText(res) {
    try { var body = await res.json(); return body.error.message; } catch (_) { return res.status + " " + res.statusText; }
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }
  function fmtRate(r) { return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2); }
  function fmtEta(s) {
    if (!isFinite(s)) return "";
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }
  function done(counts) {
    return counts.uploaded + counts.alreadyUploaded + (counts.present || 0) + counts.failed + counts.rejected + counts.skipped;
  }

  // Reads an NDJSON response line by line.
  async function eachLine(res, onLine) {
    var reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    var pending = "";
    for (;;) {
      var r = await reader.read();
      if (r.done) break;
      pending += r.value;
      var nl;
      while ((nl = pending.indexOf("\n")) !== -1) {
        var line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line) onLine(JSON.parse(line));
      }
    }
    if (pending.trim()) onLine(JSON.parse(pending));
  }

  // ---- job rows ----
  function rowFor(record) {
    var entry = jobs.get(record.id);
    if (entry) { entry.record = record; render(entry); return entry; }
    var row = el("tr", { class: "job", "data-job-id": record.id });
    ["started", "source", "state", "progress", "uploaded", "failed", "rate", "eta"].forEach(function (name) {
      row.append(el("td", { "data-col": name, class: name === "source" ? "" : "num" }));
    });
    row.children[3].append(el("span", { class: "bar" }, [el("span", { class: "ok" }), el("span", { class: "fail" })]));
    row.children[3].append(el("span", { class: "pct num" }));
    row.addEventListener("click", function () { showDetail(record.id); });
    entry = { record: record, row: row, live: null, failures: [] };
    jobs.set(record.id, entry);
    render(entry);
    return entry;
  }
  function render(entry) {
    var r = entry.record, live = entry.live, row = entry.row;
    var counts = live ? live.counts : r.counts;
    var total = live && live.total ? live.total.inputs : r.summary ? done(r.summary) : 0;
    var state = r.state;
    row.className = "job state-" + state + (selected === r.id ? " selected" : "");
    row.dataset.state = state;
    var cell = function (name) { return row.querySelector('[data-col="' + name + '"]'); };
    cell("started").textContent = new Date(r.createdAt).toLocaleTimeString();
    cell("source").textContent = r.source;
    cell("state").replaceChildren(el("span", { class: "badge " + state, text: state }));
    var fraction = total > 0 ? Math.min(1, done(counts) / total) : state === "running" ? 0 : 1;
    var bad = counts.failed + counts.rejected;
    var failShare = total > 0 ? Math.min(fraction, bad / total) : done(counts) > 0 ? fraction * bad / done(counts) : 0;
    cell("progress").querySelector(".bar > .ok").style.width = ((fraction - failShare) * 100).toFixed(1) + "%";
    cell("progress").querySelector(".bar > .fail").style.width = (failShare * 100).toFixed(1) + "%";
    cell("progress").querySelector(".pct").textContent = " " + Math.round(fraction * 100) + "%";
    cell("progress").dataset.fraction = fraction.toFixed(4);
    cell("uploaded").textContent = counts.uploaded + (counts.present ? " + " + counts.present + " present" : "") + (total ? " / " + total : "");
    cell("failed").textContent = String(counts.failed + counts.rejected);
    cell("failed").className = "num" + (counts.failed + counts.rejected > 0 ? " bad" : "");
    var seconds = live ? live.elapsedMs / 1000 : r.summary ? r.summary.durationMs / 1000 : 0;
    var rate = seconds > 0 ? counts.uploaded / seconds : 0;
    cell("rate").textContent = seconds > 0 ? fmtRate(rate) : "";
    cell("eta").textContent = state === "running" && total && rate > 0 ? fmtEta((total - done(counts)) / (done(counts) / seconds)) : "";
    if (selected === r.id) renderDetail(entry);
  }

  // Feeds one event of a job's stream into its row (and the detail view when it is open).
  function onEvent(entry, ev) {
    var live = entry.live || (entry.live = { counts: Object.assign({}, entry.record.counts), elapsedMs: 0, total: null, started: Date.now() });
    if (ev.type === "start" && ev.total) live.total = ev.total;
    if (ev.type === "progress") {
      live.counts = ev.counts; live.elapsedMs = ev.elapsedMs;
      if (ev.total) live.total = ev.total;
    }
    if (ev.type === "failed" || ev.type === "rejected") {
      entry.failures.push({ id: ev.id || "", location: ev.location, stage: ev.stage || "validation", code: ev.code || "", reason: ev.reason });
      if (ev.type === "failed") live.counts.failed = Math.max(live.counts.failed, entry.failures.filter(function (f) { return f.stage !== "validation"; }).length);
    }
    if (ev.type === "done") {
      var s = ev.summary;
      live.counts = s; live.elapsedMs = s.durationMs;
      // As the service decides it (jobs.ts finalState); the record read next is the word.
      var bad = s.failed + s.rejected + (s.processing ? s.processing.failed : 0);
      entry.record.state = s.fatal ? "failed" : s.cancelled ? "cancelled" : bad === 0 ? "completed"
        : s.uploaded + s.alreadyUploaded + (s.present || 0) > 0 ? "completed_with_failures" : "failed";
      entry.record.summary = s;
    }
    render(entry);
  }

  async function follow(entry, res) {
    if (entry.following) return;
    entry.following = true;
    try {
      if (!res) res = await api("/v1/uploads/" + entry.record.id + "/events");
      if (!res.ok) return;
      entry.failures = [];
      await eachLine(res, function (ev) { if (ev.type !== "job") onEvent(entry, ev); });
    } catch (err) {
      console.warn("lost the events of job " + entry.record.id, err);
    } finally {
      entry.following = false;
    }
    // The final record, as the service keeps it.
    var again = await api("/v1/uploads/" + entry.record.id);
    if (again.ok) { entry.record = await again.json(); entry.live = null; render(entry); }
    loadTotals();
  }

  async function loadJobs(more) {
    var res = await api("/v1/uploads?limit=20" + (more && nextPage ? "&page_token=" + encodeURIComponent(nextPage) : ""));
    if (res.status === 401) { signOut("The token was refused"); return; }
    var page = await res.json();
    var body = $("#jobs tbody");
    var rows = page.jobs.map(function (record) {
      var entry = rowFor(record);
      if (record.state === "running") follow(entry);
      return entry.row;
    });
    // The first page goes on top, newest first (jobs started elsewhere appear too); further
    // pages go below.
    if (more) rows.forEach(function (row) { body.append(row); });
    else body.prepend.apply(body, rows);
    if (more || !pagedFurther) {
      nextPage = page.nextPageToken || "";
      $("#more").hidden = !nextPage;
    }
    if (more) pagedFurther = true;
    showTotals(page.totals);
  }
  function showTotals(totals) {
    $("#totals").textContent = Object.keys(totals).filter(function (k) { return totals[k]; })
      .map(function (k) { return totals[k] + " " + k; }).join(" · ");
  }
  async function loadTotals() {
    var res = await api("/v1/uploads?limit=1");
    if (res.ok) showTotals((await res.json()).totals);
  }
  function addJob(record, res) {
    var entry = rowFor(record);
    $("#jobs tbody").prepend(entry.row);
    return follow(entry, res);
  }

  // Reads the first line of a job-starting answer, then follows the rest of it.
  async function startedJob(res) {
    var reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    var pending = "", first = null, head;
    while (first === null) {
      head = await reader.read();
      if (head.done) throw new Error("the service answered no job");
      pending += head.value;
      var nl = pending.indexOf("\n");
      if (nl !== -1) { first = JSON.parse(pending.slice(0, nl)); pending = pending.slice(nl + 1); }
    }
    var rest = new ReadableStream({
      start: function (c) { if (pending) c.enqueue(new TextEncoder().encode(pending)); },
      pull: async function (c) {
        var r = await reader.read();
        if (r.done) c.close(); else c.enqueue(new TextEncoder().encode(r.value));
      },
      cancel: function () { return reader.cancel(); },
    });
    var record = { id: first.id, kind: first.kind, source: first.source, state: "running", createdAt: first.createdAt,
      counts: { uploaded: 0, alreadyUploaded: 0, present: 0, failed: 0, rejected: 0, skipped: 0, annotations: 0, annotationsFailed: 0, retries: 0 },
      bytes: 0, settings: { patFrom: "server" } };
    if (first.retryOf) record.retryOf = first.retryOf;
    var finished = addJob(record, new Response(rest));
    return { id: first.id, finished: finished };
  }

  // ---- detail ----
  async function showDetail(id) {
    selected = id;
    jobs.forEach(function (e) { e.row.classList.toggle("selected", e.record.id === id); });
    var entry = jobs.get(id);
    $("#detail").hidden = false;
    if (!entry.following) {
      var res = await api("/v1/uploads/" + id + "/failures");
      if (res.ok) {
        var list = [];
        await eachLine(res, function (f) { list.push({ id: f.id, location: f.location, stage: f.stage || (f.outcome === "rejected" ? "validation" : ""), code: f.code || "", reason: f.reason || "" }); });
        entry.failures = list;
      }
    }
    renderDetail(entry);
  }
  function renderDetail(entry) {
    var r = entry.record, counts = entry.live ? entry.live.counts : r.counts;
    $("#detail").dataset.jobId = r.id;
    $("#detail-id").textContent = r.id;
    $("#detail-state").textContent = r.state;
    $("#detail-state").className = "badge " + r.state;
    $("#detail-source").textContent = r.source + (r.retryOf && r.source.indexOf(r.retryOf) === -1 ? " (retry of " + r.retryOf + ")" : "") + " · started " + new Date(r.createdAt).toLocaleString();
    $("#detail-counts").replaceChildren.apply($("#detail-counts"), ["uploaded", "alreadyUploaded", "present", "failed", "rejected", "skipped", "annotations", "retries"].map(function (k) {
      return el("div", { "data-count": k }, [el("b", { class: "num", text: String(counts[k] || 0) }), LABELS[k]]);
    }));
    $("#detail-fatal").textContent = r.summary && r.summary.fatal ? r.summary.fatal.code + ": " + r.summary.fatal.message : "";
    $("#retry").disabled = r.state === "running" || entry.failures.length === 0;
    $("#cancel").disabled = r.state !== "running";
    $("#failure-count").textContent = String(entry.failures.length);
    $("#failures tbody").replaceChildren.apply($("#failures tbody"), entry.failures.map(function (f) {
      return el("tr", {}, [el("td", { text: f.id }), el("td", { text: f.location }), el("td", { text: f.stage }), el("td", { text: f.code }), el("td", { class: "reason", text: f.reason })]);
    }));
  }

  async function retry() {
    var res = await api("/v1/uploads/" + selected + "/retry" + ($("#new-ids").checked ? "?new_ids_for_duplicates=true" : ""), { method: "POST" });
    if (!res.ok) { $("#detail-fatal").textContent = await failText(res); return; }
    var job = await startedJob(res);
    showDetail(job.id);
  }
  async function cancel() {
    var res = await api("/v1/uploads/" + selected, { method: "DELETE" });
    if (!res.ok) { $("#detail-fatal").textContent = await failText(res); return; }
    var record = await res.json();
    var entry = jobs.get(record.id);
    entry.record = record; entry.live = null; render(entry);
  }

  // ---- uploads ----
  function uniqueNames(files) {
    var taken = new Set();
    return files.map(function (f) {
      var base = f.path.split("/").pop();
      var name = taken.has(base) ? f.path.split("/").filter(Boolean).join("_") : base;
      var n = 2;
      while (taken.has(name)) { name = n++ + "_" + base; }
      taken.add(name);
      return name;
    });
  }
  async function upload(files) {
    if (files.length === 0) return;
    var status = $("#upload-status");
    var form = new FormData();
    var dataset = $("#dataset").value.trim();
    if (dataset) form.append("dataset", dataset);
    if ($("#create-dataset").checked) form.append("create_dataset", "true");
    if ($("#batch-size").value) form.append("batch_size", $("#batch-size").value);
    if ($("#rps").value) form.append("rps", $("#rps").value);
    if ($("#retries").value) form.append("retries", $("#retries").value);
    var names = uniqueNames(files);
    files.forEach(function (f, i) {
      var parts = f.path.split("/").filter(Boolean);
      if ($("#folder-labels").checked && parts.length > 1) form.append("labels[" + names[i] + "]", parts[parts.length - 2]);
    });
    files.forEach(function (f, i) { form.append("file", f.file, names[i]); });
    status.className = "muted";
    status.textContent = "Uploading " + files.length + " file" + (files.length === 1 ? "" : "s") + "…";
    try {
      var res = await api("/v1/uploads", { method: "POST", body: form });
      if (!res.ok) throw new Error(await failText(res));
      var job = await startedJob(res);
      status.textContent = "Job " + job.id + " started with " + files.length + " file" + (files.length === 1 ? "" : "s") + ".";
      showDetail(job.id);
    } catch (err) {
      status.className = "error";
      status.textContent = "Upload refused: " + err.message;
    }
  }
  function readAll(reader) {
    return new Promise(function (resolve, reject) {
      var all = [];
      (function more() {
        reader.readEntries(function (batch) {
          if (batch.length === 0) resolve(all); else { all = all.concat(batch); more(); }
        }, reject);
      })();
    });
  }
  async function walk(entry, prefix, out) {
    if (entry.isFile) {
      var file = await new Promise(function (resolve, reject) { entry.file(resolve, reject); });
      out.push({ file: file, path: prefix + file.name });
    } else if (entry.isDirectory) {
      var children = await readAll(entry.createReader());
      for (var i = 0; i < children.length; i++) await walk(children[i], prefix + entry.name + "/", out);
    }
  }
  async function dropped(dt) {
    var out = [];
    var entries = [];
    for (var i = 0; i < dt.items.length; i++) {
      var e = dt.items[i].webkitGetAsEntry ? dt.items[i].webkitGetAsEntry() : null;
      if (e) entries.push(e);
    }
    if (entries.length > 0) { for (var j = 0; j < entries.length; j++) await walk(entries[j], "", out); }
    else Array.from(dt.files).forEach(function (f) { out.push({ file: f, path: f.name }); });
    out.sort(function (a, b) { return a.path < b.path ? -1 : a.path > b.path ? 1 : 0; });
    return out;
  }

  // ---- sign in ----
  function signOut(message) {
    token = "";
    $("#app").hidden = true;
    $("#login").hidden = false;
    $("#login-error").textContent = message || "";
    $("#token").focus();
  }
  async function open() {
    var res = await api("/v1/uploads?limit=1");
    if (res.status === 401) return false;
    $("#login").hidden = true;
    $("#app").hidden = false;
    $("#who").textContent = token ? "signed in with a token" : "no token needed";
    await loadJobs(false);
    return true;
  }

  document.addEventListener("DOMContentLoaded", async function () {
    $("#login-form").addEventListener("submit", async function (e) {
      e.preventDefault();
      token = $("#token").value.trim();
      $("#token").value = "";
      if (!(await open())) signOut("The token was refused");
    });
    var drop = $("#drop");
    drop.addEventListener("dragover", function (e) { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
    drop.addEventListener("drop", async function (e) {
      e.preventDefault();
      drop.classList.remove("over");
      upload(await dropped(e.dataTransfer));
    });
    $("#pick-files").addEventListener("change", function (e) {
      upload(Array.from(e.target.files).map(function (f) { return { file: f, path: f.name }; }));
      e.target.value = "";
    });
    $("#pick-folder").addEventListener("change", function (e) {
      upload(Array.from(e.target.files).map(function (f) { return { file: f, path: f.webkitRelativePath || f.name }; }));
      e.target.value = "";
    });
    $("#more").addEventListener("click", function () { loadJobs(true); });
    $("#refresh").addEventListener("click", function () { loadJobs(false); });
    $("#retry").addEventListener("click", retry);
    $("#cancel").addEventListener("click", cancel);
    if (!(await open())) signOut("");
    // Jobs started elsewhere (curl, another tab) show up within a few seconds.
    setInterval(function () {
      if (!$("#app").hidden && document.visibilityState === "visible") loadJobs(false).catch(function () {});
    }, 5000);
  });
})();
`;
