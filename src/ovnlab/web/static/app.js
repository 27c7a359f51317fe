// ovnlab's web view: draws what /web/api/* reads from the lab (the same calls the CLI
// makes) with Cytoscape.js; no state of its own beyond the current drawing and trace.
"use strict";

const POLL_MS = 1000;
const $ = (id) => document.getElementById(id);
const state = { version: null, topo: null, trace: null, picks: [], cy: null };
window.ovnlab = state; // for the browser tests and the curious

async function api(verb, body, method) {
  const init = { method: method || (body ? "POST" : "GET"), credentials: "same-origin",
                 headers: { "X-Ovnlab-Web": "1" } };
  if (body) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const resp = await fetch("/web/api/" + verb, init);
  const reply = await resp.json().catch(() => ({ error: resp.statusText }));
  if (resp.status === 401 && verb !== "login") { showLogin(reply.error); throw new Error(reply.error); }
  if (!resp.ok) throw new Error(reply.error || resp.statusText);
  return reply;
}

function showError(message) { $("error").textContent = message || ""; }

// ------------------------------------------------------------------ login

function showLogin(why) {
  $("main").hidden = true; $("login").hidden = false; $("logout").hidden = true;
  $("login-why").textContent = why || "";
}

async function start() {
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    try { await api("login", { token: params.get("token") }); }
    catch (err) { showLogin(err.message); return; }
    finally { history.replaceState(null, "", "/web/"); }
  }
  try { await refresh(); } catch (err) { return; }
  $("login").hidden = true; $("main").hidden = false; $("logout").hidden = false;
  state.cy.resize(); state.cy.fit(undefined, 20);
  setInterval(poll, POLL_MS);
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  try {
    await api("login", Object.fromEntries(form.entries()));
    $("login-error").textContent = "";
    await start();
  } catch (err) { $("login-error").textContent = err.message; }
});

$("logout").addEventListener("click", async () => { await api("logout", {}); location.reload(); });

// ------------------------------------------------------------------ topology

const STYLE = [
  { selector: "node", style: { label: "data(label)", "font-size": 9, "text-valign": "center",
      "text-halign": "center", "text-wrap": "wrap", "text-max-width": 90, "background-color": "#cfd8dc",
      width: (n) => Math.max(24, 5.2 * Math.min(18, longestWord(n.data("label")))),
      height: (n) => 14 + 11 * Math.ceil(n.data("label").length / 18), shape: "round-rectangle" } },
  { selector: "node.chassis", style: { "text-valign": "top", "font-size": 11, "font-weight": "bold",
      "background-color": "#eceff1", "border-width": 1, "border-color": "#90a4ae", padding: 8 } },
  { selector: "node.bridge", style: { "background-color": "#90caf9" } },
  { selector: "node.nic", style: { "background-color": "#ffe0b2", shape: "rectangle" } },
  { selector: "node.vm", style: { "background-color": "#a5d6a7", shape: "ellipse" } },
  { selector: "node.host, node.external-router", style: { "background-color": "#d1c4e9", shape: "diamond" } },
  { selector: "node.segment", style: { "background-color": "#fff", "border-width": 1, "border-style": "dashed",
      "border-color": "#777", shape: "barrel" } },
  { selector: "node.network", style: { "background-color": "#f8bbd0", shape: "tag" } },
  { selector: "node.router", style: { "background-color": "#ffcc80", shape: "hexagon" } },
  { selector: "node.fip", style: { "background-color": "#fff59d", shape: "round-tag" } },
  { selector: "node.picked", style: { "border-width": 3, "border-color": "#000" } },
  { selector: "edge", style: { width: 1, "line-color": "#b0bec5", "curve-style": "bezier", label: "data(label)",
      "font-size": 7, color: "#555", "text-rotation": "autorotate" } },
  { selector: "edge.logical", style: { "line-style": "dashed", "line-color": "#ce93d8" } },
  { selector: "edge.gateway-chassis", style: { "line-style": "dotted", "line-color": "#ffa726",
      "target-arrow-shape": "triangle", "target-arrow-color": "#ffa726" } },
  { selector: "edge[?active]", style: { "line-style": "solid", width: 3 } },
  { selector: "edge.path", style: { width: 3, "target-arrow-shape": "triangle", "curve-style": "bezier",
      "control-point-step-size": 30, "font-size": 8, "font-weight": "bold", "text-background-color": "#fff",
      "text-background-opacity": 0.8, "text-wrap": "wrap", "text-max-width": 160, "z-index": 10 } },
  { selector: "edge.request", style: { "line-color": "#1565c0", "target-arrow-color": "#1565c0", color: "#0d47a1" } },
  { selector: "edge.reply", style: { "line-color": "#d84315", "target-arrow-color": "#d84315", color: "#bf360c" } },
  { selector: "edge.path.selected", style: { width: 6 } },
];

function longestWord(text) { return Math.max(...text.split(/\s+/).map((w) => w.length)); }

function draw(topo) {
  const wanted = new Set(topo.elements.map((e) => e.data.id));
  if (!state.cy) {
    state.cy = cytoscape({ container: $("cy"), elements: topo.elements, style: STYLE });
    state.cy.on("tap", "node", (ev) => pick(ev.target));
    state.cy.on("tap", "edge.path", (ev) => showHop(ev.target.data("n")));
    layout();
    return;
  }
  const cy = state.cy;
  let changed = false;
  cy.batch(() => {
    cy.elements().not(".path").forEach((el) => { if (!wanted.has(el.id())) { cy.remove(el); changed = true; } });
    for (const el of topo.elements) {
      const have = cy.getElementById(el.data.id);
      if (have.empty()) { cy.add(el); changed = true; } else { have.data(el.data); }
    }
  });
  if (changed) layout();
}

function layout() {
  // fCoSE (cytoscape-fcose): a force layout that keeps compound nodes (chassis) compact
  state.cy.layout({ name: "fcose", animate: false, randomize: true, quality: "proof",
                    nodeDimensionsIncludeLabels: true, idealEdgeLength: (e) => e.hasClass("logical") ? 70 : 45,
                    nodeRepulsion: () => 6000, nestingFactor: 0.3, gravity: 0.3, padding: 20,
                    packComponents: true }).run();
}

function fillSelectors(topo) {
  const endpoints = [];
  for (const el of topo.elements) {
    const d = el.data;
    if (["vm", "host", "external-router"].includes(d.kind)) endpoints.push(d.id);
    if (d.kind === "fip") endpoints.push(d.address);
  }
  setOptions($("endpoints"), endpoints);
  const nodes = Object.keys(topo.nodes);
  keepSelect($("flows-node"), Object.keys(topo.bridges)); fillBridges();
  keepSelect($("capture-node"), nodes); fillIfaces();
  keepSelect($("lflows-dp"), topo.datapaths);
  keepSelect($("db-table"), topo.tables[$("db-name").value]);
  $("lab-name").textContent = topo.name;
  $("distributed").checked = !!topo.config.enable_distributed_floating_ip;
}

function setOptions(list, values) {
  list.replaceChildren(...values.map((v) => Object.assign(document.createElement("option"), { value: v })));
}

function keepSelect(select, values) {
  const old = select.value;
  select.replaceChildren(...values.map((v) => Object.assign(document.createElement("option"),
                                                            { value: v, textContent: v })));
  if (values.includes(old)) select.value = old;
}

function fillBridges() { keepSelect($("flows-bridge"), state.topo.bridges[$("flows-node").value] || []); }
function fillIfaces() { keepSelect($("capture-iface"), state.topo.nodes[$("capture-node").value] || []); }
$("flows-node").addEventListener("change", fillBridges);
$("capture-node").addEventListener("change", fillIfaces);
$("db-name").addEventListener("change", () => keepSelect($("db-table"), state.topo.tables[$("db-name").value]));

async function refresh() {
  const topo = await api("topology");
  state.topo = topo; state.version = topo.version;
  draw(topo); fillSelectors(topo);
}

async function poll() {
  try {
    const { version } = await api("version");
    $("live").classList.remove("stale");
    if (version !== state.version) {
      await refresh();
      if (state.trace) await runTrace(state.trace.request); // the path may have moved
    }
  } catch (err) { $("live").classList.add("stale"); }
}

// ------------------------------------------------------------------ trace

function pick(node) {
  const d = node.data();
  const name = d.kind === "fip" ? d.address : ["vm", "host", "external-router"].includes(d.kind) ? d.id : null;
  if (!name) return;
  state.picks.push(name);
  node.addClass("picked");
  if (state.picks.length === 1) { $("trace-src").value = name; $("trace-dst").value = ""; return; }
  $("trace-dst").value = name;
  state.picks = [];
  state.cy.nodes(".picked").removeClass("picked");
  $("trace-form").requestSubmit();
}

$("trace-proto").addEventListener("change", () => { $("trace-port").hidden = $("trace-proto").value === "icmp"; });

$("trace-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const proto = $("trace-proto").value;
  await runTrace({ src: $("trace-src").value.trim(), dst: $("trace-dst").value.trim(), proto,
                   port: proto === "icmp" ? 0 : Number($("trace-port").value || 0) });
});

async function runTrace(request) {
  showError("");
  let journey;
  try { journey = await api("trace", request); }
  catch (err) { showError(err.message); return; }
  state.trace = { request, journey };
  state.version = journey.version; // the trace's own changes (learned MACs) need no redraw
  drawPath(journey);
}

function drawPath(journey) {
  const cy = state.cy;
  cy.remove(".path");
  const list = $("path");
  list.replaceChildren();
  $("hop").replaceChildren();
  $("disposition").textContent = journey.disposition;
  journey.path.forEach((edge, n) => {
    if (cy.getElementById(edge.source).nonempty() && cy.getElementById(edge.target).nonempty()) {
      cy.add({ group: "edges", classes: "path " + edge.leg,
               data: { id: "path-" + n, n, source: edge.source, target: edge.target, label: edge.short } });
    }
    const li = document.createElement("li");
    li.className = edge.leg;
    li.dataset.n = n; li.dataset.source = edge.source; li.dataset.target = edge.target;
    li.innerHTML = `${esc(edge.source)} → ${esc(edge.target)} <span class="what">${esc(edge.label)}</span>`;
    li.addEventListener("click", () => showHop(n));
    list.append(li);
  });
}

function showHop(n) {
  const { journey } = state.trace;
  const edge = journey.path[n];
  document.querySelectorAll("#path li").forEach((li) => li.classList.toggle("selected", Number(li.dataset.n) === n));
  state.cy.edges(".path").removeClass("selected");
  state.cy.getElementById("path-" + n).addClass("selected");
  const box = $("hop");
  box.replaceChildren();
  const h = document.createElement("h3");
  h.textContent = `${edge.source} → ${edge.target} (${edge.leg})`;
  box.append(h);
  for (const i of edge.steps) {
    const s = journey.steps[i];
    const p = document.createElement("p");
    p.textContent = `${s.time_ms.toFixed(3)} ms  ${s.node} ${s.kind} ${s.where}: ${s.packet}` + (s.label ? `  — ${s.label}` : "");
    box.append(p);
    if (s.flows.length) {
      const pre = document.createElement("pre");
      pre.className = "flows";
      pre.textContent = s.flows.join("\n");
      box.append(pre);
    }
  }
}

function esc(text) { const d = document.createElement("span"); d.textContent = text; return d.innerHTML; }

$("distributed").addEventListener("change", async (ev) => {
  showError("");
  try {
    await api("config", { key: "ovn.enable_distributed_floating_ip", value: String(ev.target.checked) });
    await refresh();
    if (state.trace) await runTrace(state.trace.request);
  } catch (err) { showError(err.message); ev.target.checked = !ev.target.checked; }
});

// ------------------------------------------------------------------ tools

async function run(node, argv, out) {
  showError("");
  out.textContent = "…";
  try {
    const r = await api("exec", { node, argv });
    // a tool's stderr is its diagnostics (tcpdump's "listening on..."): an error only with rc != 0
    out.textContent = `$ ${r.command}\n${r.stdout}` + (r.rc === 0 ? r.stderr : "");
    if (r.rc !== 0) showError(r.stderr || `exit status ${r.rc}`);
    return r;
  } catch (err) { out.textContent = ""; showError(err.message); return null; }
}

function words(text) { return text.trim() ? text.trim().split(/\s+/) : []; }

$("flows-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const argv = ["ovs-ofctl", "dump-flows", $("flows-bridge").value];
  if ($("flows-filter").value.trim()) argv.push($("flows-filter").value.trim());
  run($("flows-node").value, argv, $("flows-out"));
});

$("lflows-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = $("lflows-out");
  const r = await run(Object.keys(state.topo.bridges)[0], ["ovn-sbctl", "lflow-list", $("lflows-dp").value], out);
  if (!r) return;
  const stages = [...new Set([...r.stdout.matchAll(/table=\d+ ?\((\w+)\s*\)/g)].map((m) => m[1]))];
  const stage = $("lflows-stage").value;
  keepSelect($("lflows-stage"), ["", ...stages]);
  $("lflows-stage").options[0].textContent = "every stage";
  $("lflows-stage").value = stages.includes(stage) ? stage : "";
  if ($("lflows-stage").value) {
    const keep = r.stdout.split("\n").filter((l) => !/^\s+table=/.test(l) || l.includes(`(${stage} `) || l.includes(`(${stage})`));
    out.textContent = `$ ${r.command}  [stage ${stage}]\n` + keep.join("\n");
  }
});

$("db-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const tool = $("db-name").value === "nb" ? "ovn-nbctl" : "ovn-sbctl";
  run(Object.keys(state.topo.bridges)[0], [tool, "list", $("db-table").value], $("db-out"));
});

$("capture-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (follow.timer) stopLive();
  run($("capture-node").value, ["tcpdump", "-n", "-e", "-i", $("capture-iface").value, ...words($("capture-filter").value)],
      $("capture-out"));
});

// Live: the first call gives tcpdump's header and the interface's frame mark, then every
// second the lines of the frames after the mark (the lab keeps nothing per page).
const follow = { timer: null, mark: null, query: null, busy: false };

function stopLive(note) {
  clearInterval(follow.timer); follow.timer = null;
  $("capture-live").textContent = "live";
  if (note) $("capture-out").textContent += note;
}

async function pollLive() {
  const q = new URLSearchParams(follow.query);
  if (follow.mark !== null) q.set("since", follow.mark);
  const r = await api("capture?" + q);
  if (follow.mark !== null && !follow.timer) return; // stopped while this poll was out
  const out = $("capture-out");
  if (follow.mark === null) out.textContent = `$ ${r.command}\n${r.header}`;
  if (r.lost) out.textContent += `(${r.lost} frames left the interface's buffer unseen)\n`;
  if (r.lines.length) out.textContent += r.lines.join("\n") + "\n";
  follow.mark = r.mark;
  out.scrollTop = out.scrollHeight;
}

$("capture-live").addEventListener("click", async () => {
  if (follow.timer) { stopLive("(stopped)\n"); return; }
  showError("");
  follow.mark = null;
  follow.query = { node: $("capture-node").value, iface: $("capture-iface").value,
                   filter: $("capture-filter").value };
  try { await pollLive(); } catch (err) { showError(err.message); return; }
  $("capture-live").textContent = "stop";
  follow.timer = setInterval(async () => {
    if (follow.busy) return; // a slow answer: skip a tick rather than pile polls up
    follow.busy = true;
    try { await pollLive(); } catch (err) { stopLive(); showError(err.message); } finally { follow.busy = false; }
  }, POLL_MS);
});

$("capture-pcap").addEventListener("click", async (ev) => {
  ev.preventDefault();
  showError("");
  const q = new URLSearchParams({ node: $("capture-node").value, iface: $("capture-iface").value,
                                  filter: $("capture-filter").value });
  const resp = await fetch("/web/api/pcap?" + q, { credentials: "same-origin" });
  if (!resp.ok) { showError((await resp.json().catch(() => ({}))).error || resp.statusText); return; }
  const url = URL.createObjectURL(await resp.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: `${q.get("node")}-${q.get("iface")}.pcap` });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
});

document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll("nav button").forEach((x) => x.classList.toggle("active", x === b));
  document.querySelectorAll(".tab").forEach((t) => { t.hidden = t.id !== "tab-" + b.dataset.tab; });
}));

start();
