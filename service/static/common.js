// Shared helpers of the review page: CSRF-carrying requests, typed error messages, small DOM builders.
export const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? "http_error";
  }
}

// Every call goes to the app's own origin; state-changing ones carry the session's CSRF token.
export async function api(path, { method = "GET", json, body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: json !== undefined ? JSON.stringify(json) : body,
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => null);
  if (response.status === 401) { window.location.assign("/review"); }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function showMessage(text, kind = "error") {
  const box = document.getElementById("message");
  if (!box) return;
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = !text;
}

export const SEVERITY = { error: "错误", warning: "警告", info: "提示" };
export const REVIEW = { open: "未审核", in_review: "审核中", approved: "已通过" };
export const STATUS = { queued: "排队中", running: "识别中", succeeded: "已完成", failed: "失败",
                        cancelled: "已取消" };

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
         `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
