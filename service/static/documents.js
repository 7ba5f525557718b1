// The documents list: live progress, filters, drag-and-drop upload with a progress bar, fetch by URL.
import { api, csrfToken, el, formatTime, showMessage, REVIEW, SEVERITY, STATUS } from "./common.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const filters = {
  state: document.getElementById("filter-state"),
  severity: document.getElementById("filter-severity"),
  form: document.getElementById("filter-form"),
};
let pollTimer = null;

function query() {
  const params = new URLSearchParams();
  for (const [name, select] of Object.entries(filters)) if (select.value) params.set(name, select.value);
  return params;
}

function progressCell(doc) {
  const job = doc.job;
  const label = STATUS[doc.status] ?? doc.status;
  if (!job || TERMINAL.has(doc.status)) {
    return el("td", {}, el("span", { class: `status st-${doc.status}`, title: job?.error ?? "" }, label));
  }
  const total = Math.max(job.pages_total, 1);
  return el("td", {},
    el("span", { class: `status st-${doc.status}` }, label),
    el("progress", { class: "job-progress", max: String(total), value: String(job.pages_done) }),
    el("span", { class: "muted small" }, ` ${job.pages_done}/${job.pages_total || "?"} 页`));
}

function findingsCell(doc) {
  const badges = Object.entries(doc.findings).filter(([, n]) => n > 0)
    .map(([severity, n]) => el("span", { class: `sev sev-${severity}`, title: SEVERITY[severity] },
                               `${SEVERITY[severity]} ${n}`));
  return el("td", {}, badges.length ? badges : (doc.status === "succeeded" ? "无" : "—"));
}

function row(doc) {
  const ready = doc.status === "succeeded";
  const name = ready
    ? el("a", { href: `/review/documents/${doc.document_id}`, class: "doc-link" }, doc.filename)
    : el("span", {}, doc.filename);
  const review = ready ? `${REVIEW[doc.review] ?? doc.review}（${doc.tables_approved}/${doc.tables} 表）` : "—";
  return el("tr", { dataset: { documentId: doc.document_id, status: doc.status } },
    el("td", {}, name, doc.forms.length ? el("div", { class: "muted small" }, doc.forms.join("、")) : null),
    progressCell(doc), el("td", {}, doc.pages ?? "—"), el("td", {}, ready ? doc.tables : "—"),
    findingsCell(doc), el("td", { class: `review rv-${doc.review}` }, review),
    el("td", { class: "muted small" }, formatTime(doc.created_at)));
}

function fillForms(forms) {
  const current = filters.form.value;
  filters.form.replaceChildren(el("option", { value: "" }, "全部"),
    ...forms.map((form) => el("option", { value: form }, form)));
  filters.form.value = forms.includes(current) ? current : "";
}

async function load() {
  clearTimeout(pollTimer);
  try {
    const data = await api(`/review/api/documents?${query()}`);
    document.querySelector("#documents tbody").replaceChildren(...data.items.map(row));
    document.getElementById("empty").hidden = data.items.length > 0;
    fillForms(data.forms);
    if (data.items.some((doc) => !TERMINAL.has(doc.status))) pollTimer = setTimeout(load, 1000);
  } catch (error) {
    showMessage(`无法载入文件列表：${error.message}`);
    pollTimer = setTimeout(load, 5000);
  }
}

// XMLHttpRequest, not fetch: only it reports upload progress.
function uploadOne(file, index, count) {
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/review/api/documents");
    request.setRequestHeader("X-CSRF-Token", csrfToken);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = Math.round((100 * event.loaded) / event.total);
    });
    request.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch { body = null; }
      if (request.status >= 400) showMessage(`${file.name}：${body?.message ?? request.status}`);
      else status.textContent = `已上传 ${index + 1}/${count}：${file.name}${body?.duplicate ? "（已存在）" : ""}`;
      resolve();
    });
    request.addEventListener("error", () => { showMessage(`${file.name}：上传中断`); resolve(); });
    const form = new FormData();
    form.append("file", file, file.name);
    bar.hidden = false;
    bar.value = 0;
    request.send(form);
  });
}

async function uploadAll(files) {
  showMessage("");
  const list = [...files];
  for (const [index, file] of list.entries()) {
    await uploadOne(file, index, list.length);
    await load();
  }
  document.getElementById("upload-progress").value = 100;
}

function wireUploads() {
  const zone = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer?.files?.length) uploadAll(event.dataTransfer.files);
  });
  zone.addEventListener("keydown", (event) => { if (event.key === "Enter") input.click(); });
  input.addEventListener("change", () => { if (input.files.length) uploadAll(input.files); input.value = ""; });
  document.getElementById("fetch-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const url = document.getElementById("fetch-url");
    try {
      await api("/review/api/documents/fetch", { method: "POST", json: { url: url.value } });
      url.value = "";
      showMessage("");
      await load();
    } catch (error) {
      showMessage(`获取失败（${error.code}）：${error.message}`);
    }
  });
}

function wireFilters() {
  const params = new URLSearchParams(window.location.search);
  for (const [name, select] of Object.entries(filters)) {
    if (params.get(name)) {
      if (![...select.options].some((o) => o.value === params.get(name))) {
        select.append(el("option", { value: params.get(name) }, params.get(name)));
      }
      select.value = params.get(name);
    }
    select.addEventListener("change", () => {
      const search = query().toString();
      history.replaceState(null, "", search ? `?${search}` : window.location.pathname);
      load();
    });
  }
}

wireFilters();
wireUploads();
load();
