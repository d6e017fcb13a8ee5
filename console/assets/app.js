// roster console: plain JavaScript, no build step. Every string from the
// cluster is untrusted (clients choose service names and data): the page is
// built with textContent only, never innerHTML.
"use strict";

const API = "api"; // relative to /console/: meta forwards it to the leader
const TOKEN_KEY = "roster.adminToken";
const POLL_MS = 2000;

// h builds an element: h("td", {class: "x"}, "text", child, ...).
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "style") e.style.cssText = v; // CSSOM: the page's CSP refuses style attributes
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function table(headers, rows, empty) {
  if (!rows.length) return h("p", {class: "muted"}, empty || "none");
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map(x => h("th", {}, x)))),
    h("tbody", {}, rows.map(r => h("tr", {}, r.map(c => h("td", {}, c))))));
}

const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

async function call(method, path, form) {
  const headers = {"Accept": "application/json", "X-Roster-Admin": "1"};
  if (token()) headers["Authorization"] = "Bearer " + token();
  const init = {method, headers, credentials: "omit", cache: "no-store"};
  if (form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    init.body = new URLSearchParams(form).toString();
  }
  const resp = await fetch(API + path, init);
  let body = null;
  try { body = await resp.json(); } catch (e) { /* not JSON */ }
  if (!resp.ok) {
    const msg = (body && body.error) || resp.statusText;
    if (resp.status === 401) throw new Error("refused: " + msg + (token() ? " (is the admin token right?)" : " (log in as admin)"));
    throw new Error(resp.status + ": " + msg);
  }
  return body;
}
const get = path => call("GET", path);
const post = (path, form) => call("POST", path, form || {});

function banner(msg, kind) {
  const b = document.getElementById("banner");
  b.hidden = !msg;
  b.className = kind || "error";
  b.textContent = msg || "";
}

// admin runs an admin action and reports its outcome.
async function admin(what, fn) {
  if (!token()) { banner("Log in as admin first: " + what + " changes the cluster.", "error"); return; }
  try {
    await fn();
    banner(what + ": done", "ok");
  } catch (e) {
    banner(what + ": " + e.message, "error");
  }
  refresh();
}

function renderAuth() {
  const a = document.getElementById("auth");
  a.replaceChildren(token()
    ? h("span", {}, h("span", {class: "pill ok", id: "admin-state"}, "admin"), " ",
        h("button", {id: "logout", onclick: () => { sessionStorage.removeItem(TOKEN_KEY); renderAuth(); refresh(); }}, "Log out"))
    : h("button", {id: "login-open", onclick: () => document.getElementById("login").showModal()}, "Admin login"));
}

// ---- pages: each returns the content of <main> ----

let servicesPrefix = "", servicesAfter = [""];

async function pageServices() {
  const q = new URLSearchParams({prefix: servicesPrefix, limit: "50"});
  const after = servicesAfter[servicesAfter.length - 1];
  if (after) q.set("after", after);
  const page = await get("/api/catalog/services?" + q);
  const search = h("input", {id: "prefix", type: "search", placeholder: "dataInfoId prefix, e.g. com.example.", value: servicesPrefix});
  search.addEventListener("change", () => { servicesPrefix = search.value; servicesAfter = [""]; refresh(); });
  const rows = page.services.map(s => [
    h("a", {href: "#/service/" + encodeURIComponent(s.dataInfoId), class: "service"}, s.dataInfoId),
    s.publishers, s.subscribers]);
  return [h("h1", {}, "Services"),
    h("div", {class: "toolbar"}, search, " ", h("span", {class: "muted"}, `${page.sessions} sessions answered`)),
    failed(page.failed),
    table(["dataInfoId", "publishers", "subscribers"], rows, "no service matches"),
    h("div", {class: "toolbar"},
      servicesAfter.length > 1 ? h("button", {onclick: () => { servicesAfter.pop(); refresh(); }}, "Previous") : null, " ",
      page.more ? h("button", {id: "next", onclick: () => { servicesAfter.push(page.next); refresh(); }}, "Next") : null)];
}

function failed(list) {
  if (!list || !list.length) return null;
  return h("p", {class: "warn"}, "Incomplete: ", list.map(f => f.node + " (" + f.error + ")").join("; "));
}

async function pageService(id) {
  const d = await get("/api/catalog/service?dataInfoId=" + encodeURIComponent(id));
  const zones = {};
  for (const p of d.publishers) (zones[p.zone || "(no zone)"] = zones[p.zone || "(no zone)"] || []).push(p);
  const attrs = p => Object.entries(p.attrs || {}).map(([k, v]) => k + "=" + v).join(", ");
  return [h("h1", {}, h("a", {href: "#/services"}, "Services"), " / ", h("span", {class: "service"}, d.dataInfoId)),
    h("p", {class: "muted"}, `slot ${d.slot}, leader ${d.leader || "none"}, version ${d.version}; ${d.publishers.length} publishers, ${d.subscribers.length} subscribers on ${d.sessions} sessions`),
    failed(d.failed),
    h("h2", {}, "Instances"),
    Object.keys(zones).length ? Object.keys(zones).sort().map(z => [h("h3", {}, "zone " + z),
      table(["data", "client IP", "app", "attributes", "version", "registerId"],
        zones[z].map(p => [p.data.join(" "), p.clientIp, p.appName, attrs(p), p.version, p.registerId]))])
      : h("p", {class: "muted"}, "no publisher"),
    h("h2", {}, "Subscribers"),
    table(["session", "client IP", "app", "zone", "scope", "acked version", "registerId"],
      d.subscribers.map(s => [s.session, s.clientIp, s.appName, s.zone, s.scope, s.pushedVersion, s.registerId]), "no subscriber")];
}

async function pageNodes() {
  const [nodes, draining, dcs] = await Promise.all([get("/api/catalog/nodes"), get("/api/node/drain"), get("/api/dc/list")]);
  const drainOf = id => draining.find(d => d.id === id);
  const state = n => {
    const d = drainOf(n.id);
    if (n.error) return h("span", {class: "pill bad"}, "unreachable");
    const pills = [h("span", {class: "pill " + (n.healthy ? "ok" : "bad")}, n.healthy ? "healthy" : "unhealthy")];
    if (d) pills.push(" ", h("span", {class: "pill warn"}, d.order ? "order: " + d.order : d.drained ? "drained" : "draining"));
    return pills;
  };
  const action = n => {
    const d = drainOf(n.id);
    const draining = d && (d.draining || d.order === "drain");
    return h("button", {class: "admin", onclick: () => admin((draining ? "undrain " : "drain ") + n.rpcAddr,
      () => post(draining ? "/api/node/undrain" : "/api/node/drain", {addr: n.id}))}, draining ? "Undrain" : "Drain");
  };
  const detail = n => n.role === "data"
    ? `${n.health?.leads ?? "?"} slots led, ${n.health?.publishers ?? "?"} publishers`
    : `${n.health?.clients ?? "?"} clients, ${n.health?.publishers ?? "?"} publishers`;
  return [h("h1", {}, "Nodes"),
    h("h2", {}, "Meta"),
    table(["RPC", "HTTP", "role"], nodes.metas.map(m => [m.rpcAddr, m.httpAddr || "", m.isLeader ? "leader" : "follower"])),
    h("h2", {}, "Data"),
    table(["RPC", "HTTP", "state", "holds", ""], nodes.data.map(n => [n.rpcAddr, n.httpAddr, state(n), detail(n), action(n)]), "no data node"),
    h("h2", {}, "Sessions"),
    table(["client address", "HTTP", "state", "holds", ""], nodes.sessions.map(n => [n.rpcAddr, n.httpAddr, state(n), detail(n), action(n)]), "no session"),
    h("h2", {}, "Remote data centers (this one: " + dcs.dataCenter + ")"),
    table(["name", "meta", "sync", "push remote", "allow", "deny"], dcs.remotes.map(d => [d.name, d.metaAddrs.join(", "),
      d.sync ? "on" : "off", d.pushRemote ? "on" : "off", d.allow.join(", ") || "all", d.deny.join(", ") || "-"]), "no remote data center")];
}

// A colour per data node, stable while the page lives.
const colours = {};
function colour(node) {
  if (!colours[node]) colours[node] = `hsl(${(210 + Object.keys(colours).length * 67) % 360} 55% 50%)`;
  return colours[node];
}

async function pageSlots() {
  const st = await get("/openapi/v1/slot/table/status");
  const live = new Set(st.dataNodes.filter(n => n.id).map(n => n.rpcAddr));
  const grid = h("div", {class: "slots", id: "slot-grid"}, st.slots.map(s => {
    const bad = !s.leader || !live.has(s.leader);
    const cls = "slot" + (bad ? " leaderless" : "") + (s.synced ? "" : " unsynced");
    const title = `slot ${s.id}\nleader ${s.leader || "none"} (epoch ${s.leaderEpoch})\nfollowers: ` +
      (s.followers.map(f => f.node + (f.synced ? "" : " (syncing)")).join(", ") || "none");
    return h("div", {class: cls, title, style: bad ? "" : "background:" + colour(s.leader)},
      h("span", {}, s.id), s.followers.map(f => h("i", {style: "background:" + colour(f.node), class: f.synced ? "" : "syncing"})));
  }));
  return [h("h1", {}, "Slot table"),
    h("p", {class: "muted"}, `epoch ${st.epoch}, ${st.slots.length} slots, ${st.replicas} replicas each: `,
      h("b", {class: st.leaderlessSlots ? "bad" : ""}, `${st.leaderlessSlots} without leader`), ", ",
      h("b", {class: st.unsyncedSlots ? "warn" : ""}, `${st.unsyncedSlots} with unsynced followers`), ", ",
      h("b", {class: st.underReplicatedSlots ? "warn" : ""}, `${st.underReplicatedSlots} under-replicated`)),
    h("p", {class: "muted"}, "Each square is a slot, coloured by its leader; the bars below are its followers (striped: not synced yet). Red: no live leader; orange border: an unsynced follower."),
    grid,
    h("h2", {}, "Data nodes"),
    table(["", "RPC", "leads", "follows", "synced followers"], st.dataNodes.map(n => [
      h("span", {class: "swatch", style: "background:" + colour(n.rpcAddr)}), n.rpcAddr + (n.id ? "" : " (gone)"), n.leaders, n.followers, n.syncedFollowers]))];
}

async function pageSessions() {
  const all = await get("/api/catalog/connections");
  return [h("h1", {}, "Connections"),
    all.map(s => [h("h2", {}, "session " + s.session),
      s.error ? h("p", {class: "warn"}, s.error)
        : [h("p", {class: "muted"}, `${s.answer.connections} connections`),
          table(["client IP", "connections", "publishers", "subscribers"],
            (s.answer.byIp || []).map(e => [e.clientIp, e.connections, e.publishers, e.subscribers]), "no client")]])];
}

async function pageConfig() {
  const [off, push] = await Promise.all([get("/api/clientManager/query"), get("/api/push/status")]);
  const ips = h("input", {id: "off-ips", placeholder: "10.0.0.7, 10.0.0.8"});
  return [h("h1", {}, "Client off & push switch"),
    h("h2", {}, "Push switch"),
    h("p", {}, "Pushes to subscribers are ", h("b", {id: "push-state", class: push.stopped ? "bad" : "ok"}, push.stopped ? "STOPPED" : "running"), ". ",
      h("button", {class: "admin", id: "push-toggle", onclick: () => admin(push.stopped ? "resume pushes" : "stop pushes",
        () => post(push.stopped ? "/api/push/resume" : "/api/push/stop"))}, push.stopped ? "Resume pushes" : "Stop pushes")),
    h("h2", {}, "Client off"),
    h("p", {class: "muted"}, "The publishers of these client IPs are hidden from every subscriber until opened again."),
    table(["client IP", ""], off.map(ip => [ip, h("button", {class: "admin", onclick: () => admin("open " + ip,
      () => post("/api/clientManager/clientOpen", {ips: ip}))}, "Open")]), "no IP is off"),
    h("div", {class: "toolbar"}, ips, " ", h("button", {class: "admin", id: "off-add", onclick: () => admin("client off " + ips.value,
      () => post("/api/clientManager/clientOff", {ips: ips.value}))}, "Cut off"))];
}

// ---- routing and polling ----

function route() {
  const hash = location.hash.replace(/^#\/?/, "") || "services";
  const [page, ...rest] = hash.split("/");
  return {page, arg: decodeURIComponent(rest.join("/"))};
}

let rendering = false;
async function refresh() {
  if (rendering) return;
  rendering = true;
  const {page, arg} = route();
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === page || (page === "service" && a.dataset.page === "services"));
  const active = document.activeElement;
  const keep = active && active.id && active.tagName === "INPUT" ? active.id : null;
  try {
    const leader = await get("/meta/leader/query");
    document.getElementById("leader").textContent = "data center " + leader.dataCenter + ", meta leader " + (leader.leader || "none");
    const pages = {services: pageServices, service: () => pageService(arg), nodes: pageNodes, slots: pageSlots, sessions: pageSessions, config: pageConfig};
    const content = await (pages[page] || pageServices)();
    const main = document.getElementById("main");
    const next = h("main", {}, [content].flat(3).filter(Boolean));
    // Replace the page only when it changed: a poll that finds the same
    // cluster leaves the DOM, the selection and the focus alone.
    if (main.dataset.page !== page || main.innerHTML !== next.innerHTML) {
      main.replaceChildren(...next.childNodes);
    }
    main.dataset.page = page;
    document.body.classList.toggle("is-admin", !!token());
    // Polling must not steal what the operator is typing: an input the
    // page replaced gets the focus and the value of the one it replaced,
    // read now, so keys typed while the poll was in flight stay. One still
    // in place is left alone (restoring the value read when the poll
    // began erased a token typed meanwhile, and the login then failed the
    // form's "required").
    if (keep) {
      const e = document.getElementById(keep);
      if (e && !active.isConnected) { e.value = active.value; e.focus(); }
    }
  } catch (e) {
    banner("Cannot load: " + e.message, "error");
  } finally {
    rendering = false;
  }
}

document.getElementById("login-form").addEventListener("submit", ev => {
  ev.preventDefault();
  const v = document.getElementById("login-token").value.trim();
  if (ev.submitter && ev.submitter.value === "ok" && v) {
    sessionStorage.setItem(TOKEN_KEY, v);
    banner("");
  }
  document.getElementById("login-token").value = "";
  document.getElementById("login").close();
  renderAuth();
  refresh();
});
window.addEventListener("hashchange", () => { banner(""); refresh(); });
renderAuth();
refresh();
setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
