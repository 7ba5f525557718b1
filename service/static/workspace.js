// The workspace of one document: page image with grid and finding boxes, the table as a grid of cells,
// the findings, the correction history; keyboard-driven review (J/K, Enter, Esc, A, Shift+A).
import { api, el, formatTime, showMessage, REVIEW, SEVERITY } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
const root = document.getElementById("workspace");
const documentId = root.dataset.documentId;
const base = `/review/api/documents/${documentId}`;
const $ = (id) => document.getElementById(id);

const state = {
  data: null, tableIndex: 0, page: null, zoom: null, cellId: null, findingNumber: null,
  cursor: -1, editing: false,
};

// -- data -------------------------------------------------------------------------------------
const currentTable = () => state.data.tables[state.tableIndex];
const pageInfo = (number) => state.data.document.page_info.find((p) => p.number === number);
const findCell = (cellId) => {
  for (const [index, table] of state.data.tables.entries()) {
    const cell = table.cells.find((c) => c.cell_id === cellId);
    if (cell) return { table, index, cell };
  }
  return null;
};

// The things to look at, in order: every finding, then uncertain cells no finding covers.
function queue() {
  const items = state.data.findings.map((f) => ({ kind: "finding", number: f.number }));
  for (const table of state.data.tables) {
    for (const cell of table.cells) {
      if (cell.uncertain && cell.findings.length === 0) items.push({ kind: "cell", cellId: cell.cell_id });
    }
  }
  return items;
}

async function load() {
  try {
    apply(await api(base));
  } catch (error) {
    showMessage(`无法载入：${error.message}`);
  }
}

function apply(data) {
  state.data = data;
  if (state.tableIndex >= data.tables.length) state.tableIndex = 0;
  if (state.findingNumber !== null && !data.findings.some((f) => f.number === state.findingNumber)) {
    state.findingNumber = null;
  }
  if (state.page === null) state.page = currentTable()?.page ?? data.document.page_info[0]?.number ?? null;
  renderHeader();
  renderPageSelect();
  renderTabs();
  renderGrid();
  renderFindings();
  renderHistory();
  renderPage();
  renderEditor();
}

// -- header, tabs -----------------------------------------------------------------------------
function renderHeader() {
  const { review, findings, document: doc } = state.data;
  $("doc-state").textContent = REVIEW[review.state];
  $("doc-state").className = `badge rv-${review.state}`;
  $("doc-state").title = review.document.approved ? `${review.document.who} · ${formatTime(review.document.at)}` : "";
  $("counts").replaceChildren(...Object.entries(doc.findings).map(([severity, n]) =>
    el("span", { class: `sev sev-${severity}` }, `${SEVERITY[severity]} ${n}`)));
  $("approve-document").textContent = review.document.approved ? "全文已通过" : "通过全文";
  $("approve-document").classList.toggle("done", review.document.approved);
  $("finding-count").textContent = `（${findings.length}）`;
}

function renderTabs() {
  $("table-tabs").replaceChildren(...state.data.tables.map((table, index) => el("button", {
    type: "button", role: "tab", class: `tab${index === state.tableIndex ? " active" : ""}` +
      `${table.review.approved ? " approved" : ""}`,
    "aria-selected": index === state.tableIndex ? "true" : "false",
    onclick: () => selectTable(index),
  }, `${table.form ?? table.table_id} · 第${table.page}页`)));
  const table = currentTable();
  if (!table) return;
  $("table-title").textContent = [table.table_id, table.title, table.unit && `单位：${table.unit}`]
    .filter(Boolean).join(" · ");
  $("table-state").textContent = table.review.approved ? `已通过 · ${table.review.who}` :
    (table.review.stale ? "通过后有更正" : "未通过");
  $("table-state").className = `badge ${table.review.approved ? "rv-approved" : "rv-open"}`;
  $("approve-table").textContent = table.review.approved ? "本表已通过" : "通过本表";
}

function selectTable(index) {
  state.tableIndex = index;
  state.page = currentTable().page;
  renderTabs();
  renderGrid();
  renderPage();
}

// -- the grid -----------------------------------------------------------------------------------
function cellClasses(cell) {
  const classes = ["cell"];
  if (cell.uncertain) classes.push("uncertain");
  if (cell.findings.length) classes.push("blamed");
  if (cell.corrected) classes.push("corrected");
  if (cell.source === "text") classes.push("src-text");
  if (cell.cell_id === state.cellId) classes.push("selected");
  if (state.findingNumber !== null && cell.findings.includes(state.findingNumber)) classes.push("in-finding");
  return classes.join(" ");
}

function renderGrid() {
  const table = currentTable();
  const grid = $("grid");
  if (!table) { grid.replaceChildren(); return; }
  const byRow = new Map();
  for (const cell of table.cells) {
    if (!byRow.has(cell.row)) byRow.set(cell.row, []);
    byRow.get(cell.row).push(cell);
  }
  const rows = [];
  for (let r = 0; r < table.n_rows; r += 1) {
    const cells = (byRow.get(r) ?? []).sort((a, b) => a.col - b.col).map((cell) => el("td", {
      class: cellClasses(cell), rowspan: cell.row_span > 1 ? String(cell.row_span) : null,
      colspan: cell.col_span > 1 ? String(cell.col_span) : null,
      title: `(${cell.row},${cell.col}) 置信度 ${cell.confidence}` +
        (cell.findings.length ? ` · 问题 ${cell.findings.join(",")}` : "") + ` · ${cell.source === "text" ? "文本层" : "OCR"}`,
      dataset: { cellId: String(cell.cell_id), row: String(cell.row), col: String(cell.col) },
      onclick: () => selectCell(cell.cell_id),
      ondblclick: () => { selectCell(cell.cell_id); startEdit(); },
    }, cell.text));
    rows.push(el("tr", {}, el("th", { class: "rownum" }, String(r)), cells));
  }
  grid.replaceChildren(el("tbody", {}, rows));
}

function selectCell(cellId, { fromFinding = false } = {}) {
  const found = findCell(cellId);
  if (!found) return;
  state.cellId = cellId;
  if (!fromFinding) state.findingNumber = null;
  if (found.index !== state.tableIndex) { state.tableIndex = found.index; renderTabs(); }
  state.page = found.table.page;
  cancelEdit();
  renderGrid();
  renderFindings();
  renderPage();
  renderEditor();
  const td = document.querySelector(`#grid td[data-cell-id="${cellId}"]`);
  td?.scrollIntoView({ block: "center", inline: "center" });
  scrollPageTo(found.cell.bbox);
}

// -- findings, history --------------------------------------------------------------------------
function renderFindings() {
  const items = state.data.findings.map((f) => el("li", {
    class: `finding sev-${f.severity}${f.number === state.findingNumber ? " active" : ""}`,
    dataset: { number: String(f.number), rule: f.rule ?? "" },
    onclick: () => selectFinding(f.number),
  },
  el("span", { class: "num" }, String(f.number)),
  el("div", {},
    el("div", { class: "fhead" }, `${SEVERITY[f.severity]} · ${f.rule}` + (f.page ? ` · 第${f.page}页` : "") +
      (f.table ? ` · ${f.table}` : "")),
    el("div", { class: "fmsg" }, f.message),
    f.quote ? el("div", { class: "muted small" }, `原文：${f.quote}`) : null)));
  $("findings").replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "没有问题了。")]));
}

function selectFinding(number) {
  const finding = state.data.findings.find((f) => f.number === number);
  if (!finding) return;
  state.findingNumber = number;
  const index = state.data.tables.findIndex((t) => t.table_id === finding.table);
  if (index >= 0) { state.tableIndex = index; renderTabs(); }
  if (finding.page) state.page = finding.page;
  if (finding.cells.length) {
    selectCell(finding.cells[0].cell_id, { fromFinding: true });
  } else {
    state.cellId = null;
    renderGrid(); renderPage(); renderEditor();
  }
  renderFindings();
  document.querySelector(`#findings li[data-number="${number}"]`)?.scrollIntoView({ block: "nearest" });
  if (finding.box) scrollPageTo(finding.box);
}

function renderHistory() {
  const items = state.data.corrections.map((c) => el("li", { dataset: { correctionId: String(c.correction_id) } },
    el("div", {}, `${c.table} (${c.row},${c.col})：`, el("del", {}, c.old || "∅"), " → ", el("ins", {}, c.new || "∅")),
    el("div", { class: "muted small" }, `${c.who} · ${formatTime(c.at)}`),
    c.undoable ? el("button", { type: "button", class: "btn small undo", onclick: () => undo(c.correction_id) }, "撤销")
      : null));
  $("history").replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "还没有更正。")]));
}

// -- the page image -----------------------------------------------------------------------------
function renderPageSelect() {
  const select = $("page-select");
  select.replaceChildren(...state.data.document.page_info.map((p) =>
    el("option", { value: String(p.number) }, `第 ${p.number} 页`)));
  if (state.page !== null) select.value = String(state.page);
}

// Fit the current table's width (with a margin) when it is on this page, else the page's width.
function fitZoom(info) {
  const width = $("scroller").clientWidth - 4;
  const table = currentTable();
  const [x0, , x1] = table && table.page === info.number ? table.bbox : [0, 0, 0, 0];
  const span = x1 > x0 ? Math.min(info.width_px, (x1 - x0) * 1.08) : info.width_px;
  return Math.max(0.1, Math.min(2, width / span));
}

function fitView(info) {
  state.zoom = fitZoom(info);
  renderPage();
  const table = currentTable();
  if (table && table.page === info.number) scrollPageTo(table.bbox);
}

function renderPage() {
  const info = pageInfo(state.page);
  if (!info) return;
  $("page-select").value = String(state.page);
  const first = state.zoom === null;
  if (first) state.zoom = fitZoom(info);
  const image = $("page-image");
  const src = `${base}/pages/${info.number}.png?dpi=110`;
  if (image.getAttribute("src") !== src) {
    $("stage").classList.remove("loaded");
    image.setAttribute("src", src);
  }
  const width = Math.round(info.width_px * state.zoom);
  const height = Math.round(info.height_px * state.zoom);
  for (const node of [$("stage"), image, $("overlay")]) {
    node.style.width = `${width}px`;
    node.style.height = `${height}px`;
  }
  $("zoom-level").textContent = `${Math.round(state.zoom * 100)}%`;
  drawOverlay(info);
  if (first) requestAnimationFrame(() => scrollPageTo(currentTable()?.page === info.number ? currentTable().bbox : null));
}

function rect(box, cls) {
  const [x0, y0, x1, y1] = box;
  const node = document.createElementNS(SVG, "rect");
  node.setAttribute("x", x0); node.setAttribute("y", y0);
  node.setAttribute("width", Math.max(0, x1 - x0)); node.setAttribute("height", Math.max(0, y1 - y0));
  node.setAttribute("class", cls);
  return node;
}

function drawOverlay(info) {
  const svg = $("overlay");
  svg.setAttribute("viewBox", `0 0 ${info.width_px} ${info.height_px}`);
  svg.replaceChildren();
  for (const table of state.data.tables.filter((t) => t.page === info.number)) {
    for (const cell of table.cells) {
      svg.append(rect(cell.bbox, cellClasses(cell).replace("cell", "ocell")));
    }
  }
  for (const finding of state.data.findings.filter((f) => f.page === info.number && f.box)) {
    const active = finding.number === state.findingNumber ? " active" : "";
    for (const box of finding.boxes) svg.append(rect(box, `fbox sev-${finding.severity}${active}`));
    // A numbered tag just outside the box's top-left corner, as on the printed report.
    const [x0, y0] = finding.box;
    const size = 46;
    const width = size * (0.5 + 0.6 * String(finding.number).length);
    const tagX = Math.max(0, x0 - width);
    const tagY = Math.max(0, y0 - size);
    svg.append(rect([tagX, tagY, tagX + width, tagY + size], `ftag sev-${finding.severity}`));
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", tagX + width / 2); label.setAttribute("y", tagY + size * 0.78);
    label.setAttribute("class", "flabel");
    label.textContent = String(finding.number);
    svg.append(label);
  }
}

function scrollPageTo(box) {
  if (!box) return;
  const scroller = $("scroller");
  const [x0, y0, x1, y1] = box;
  scroller.scrollTo({
    left: Math.max(0, ((x0 + x1) / 2) * state.zoom - scroller.clientWidth / 2),
    top: Math.max(0, ((y0 + y1) / 2) * state.zoom - scroller.clientHeight / 2),
  });
}

function setZoom(zoom) {
  const scroller = $("scroller");
  const centre = [(scroller.scrollLeft + scroller.clientWidth / 2) / state.zoom,
                  (scroller.scrollTop + scroller.clientHeight / 2) / state.zoom];
  state.zoom = Math.max(0.1, Math.min(4, zoom));
  renderPage();
  scroller.scrollTo({ left: centre[0] * state.zoom - scroller.clientWidth / 2,
                      top: centre[1] * state.zoom - scroller.clientHeight / 2 });
}

function wireViewer() {
  $("zoom-in").addEventListener("click", () => setZoom(state.zoom * 1.25));
  $("zoom-out").addEventListener("click", () => setZoom(state.zoom / 1.25));
  $("zoom-fit").addEventListener("click", () => fitView(pageInfo(state.page)));
  $("page-image").addEventListener("load", () => $("stage").classList.add("loaded"));
  $("page-select").addEventListener("change", (event) => { state.page = Number(event.target.value); renderPage(); });
  const scroller = $("scroller");
  scroller.addEventListener("wheel", (event) => {
    if (!event.ctrlKey) return;
    event.preventDefault();
    setZoom(state.zoom * (event.deltaY < 0 ? 1.1 : 1 / 1.1));
  }, { passive: false });
  let drag = null;  // pan by dragging the page
  scroller.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, left: scroller.scrollLeft, top: scroller.scrollTop };
    scroller.setPointerCapture(event.pointerId);
    scroller.classList.add("panning");
  });
  scroller.addEventListener("pointermove", (event) => {
    if (!drag) return;
    scroller.scrollLeft = drag.left - (event.clientX - drag.x);
    scroller.scrollTop = drag.top - (event.clientY - drag.y);
  });
  const stop = () => { drag = null; scroller.classList.remove("panning"); };
  scroller.addEventListener("pointerup", stop);
  scroller.addEventListener("pointercancel", stop);
}

// -- editing, approving -------------------------------------------------------------------------
function renderEditor() {
  const found = state.cellId !== null ? findCell(state.cellId) : null;
  const input = $("cell-input");
  if (!found) {
    $("cell-label").textContent = "选择一个单元格";
    input.value = ""; input.disabled = true;
    $("cell-meta").textContent = "";
  } else {
    const { table, cell } = found;
    $("cell-label").textContent = `${table.table_id} (${cell.row},${cell.col})`;
    if (!state.editing) input.value = cell.text;
    input.disabled = !state.editing;
    $("cell-meta").textContent = `置信度 ${cell.confidence}${cell.corrected ? " · 已更正" : ""}` +
      `${cell.source === "text" ? " · 文本层" : " · OCR"}`;
  }
  $("cell-save").disabled = !state.editing;
  $("cell-cancel").disabled = !state.editing;
  $("editor").classList.toggle("editing", state.editing);
  renderRecord(found);
}

// The typed record of the selected cell's row: shows what a correction did to the exported data.
function renderRecord(found) {
  const record = found && state.data.records.find((r) => r.table === found.table.table_id && r.row === found.cell.row);
  if (!record) { $("record").replaceChildren(); return; }
  const fields = Object.entries(record.fields ?? {}).map(([name, value]) =>
    el("span", { class: "field", dataset: { field: name } }, el("b", {}, name), ` ${value ?? "∅"}`));
  $("record").replaceChildren(el("span", { class: "muted" }, `记录 · ${record.code ?? ""} ${record.name ?? ""}：`),
                              ...fields);
}

function startEdit() {
  if (state.cellId === null) return;
  state.editing = true;
  renderEditor();
  const input = $("cell-input");
  input.focus();
  input.select();
}

function cancelEdit() {
  if (!state.editing) return;
  state.editing = false;
  $("cell-input").blur();
  renderEditor();
}

async function mutate(path, options, success) {
  try {
    apply(await api(path, options));
    showMessage(success, "ok");
  } catch (error) {
    showMessage(`${error.message}（${error.code}）`);
  }
}

async function save() {
  if (!state.editing || state.cellId === null) return;
  const input = $("cell-input");
  const text = input.value;
  state.editing = false;
  // Hand the keyboard back to the page now: a focused input that is disabled later keeps the
  // keys (Chromium moves focus off it only at its next rendering step), so A would be swallowed.
  input.blur();
  await mutate(`${base}/cells/${state.cellId}`, { method: "PATCH", json: { text } }, "已保存，记录与问题已重新计算。");
}

const undo = (correctionId) => mutate(`${base}/corrections/${correctionId}/undo`, { method: "POST" }, "已撤销。");
const approveTable = () => currentTable() &&
  mutate(`${base}/approvals`, { method: "POST", json: { table: currentTable().table_id } }, "本表已通过。");
const approveDocument = () => mutate(`${base}/approvals`, { method: "POST", json: {} }, "全文已通过。");

function step(direction) {
  const items = queue();
  if (!items.length) return;
  state.cursor = (state.cursor + direction + items.length) % items.length;
  const item = items[state.cursor];
  if (item.kind === "finding") selectFinding(item.number);
  else selectCell(item.cellId);
}

function onKey(event) {
  if (state.editing) {
    if (event.key === "Enter") { event.preventDefault(); save(); }
    else if (event.key === "Escape") { event.preventDefault(); cancelEdit(); }
    return;
  }
  const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
  if (typing && !event.target.disabled) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const actions = {
    j: () => step(1), n: () => step(1), k: () => step(-1), p: () => step(-1),
    Enter: startEdit, e: startEdit, a: approveTable, A: approveDocument,
    "+": () => setZoom(state.zoom * 1.25), "-": () => setZoom(state.zoom / 1.25),
    0: () => fitView(pageInfo(state.page)),
  };
  const action = actions[event.key];
  if (action) { event.preventDefault(); action(); }
}

function wire() {
  wireViewer();
  document.addEventListener("keydown", onKey);
  $("cell-save").addEventListener("click", save);
  $("cell-cancel").addEventListener("click", cancelEdit);
  $("approve-table").addEventListener("click", approveTable);
  $("approve-document").addEventListener("click", approveDocument);
}

wire();
load();
