// Two versions of a process side by side. Both diagrams are imported into read-only viewers; their
// bpmn-moddle definitions are diffed with bpmn-js-differ in the browser; every difference is marked on
// the diagram where it can be seen (added on the newer, removed on the older, changed and moved on both)
// and listed in the table. URLs and messages come from data-* attributes (the CSP forbids inline scripts).
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import { diff } from "bpmn-js-differ";

const root = document.getElementById("compare");
const messages = root.dataset;
const KINDS = {
  added: { marker: "diff-added", label: messages.msgAdded, sides: ["new"] },
  removed: { marker: "diff-removed", label: messages.msgRemoved, sides: ["old"] },
  changed: { marker: "diff-changed", label: messages.msgChanged, sides: ["old", "new"] },
  layout: { marker: "diff-layout", label: messages.msgLayout, sides: ["old", "new"] },
};

async function load(container, url) {
  const viewer = new NavigatedViewer({ container });
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  try {
    await viewer.importXML(await response.text());
    viewer.get("canvas").zoom("fit-viewport");
  } catch (error) {
    // A model without diagram shapes (a file written by hand) is read but cannot be drawn: its
    // differences are still listed.
    if (!viewer.getDefinitions()) throw error;
    const note = document.createElement("p");
    note.className = "compare-no-diagram";
    note.textContent = messages.msgNoDiagram;
    container.replaceChildren(note);
  }
  return viewer;
}

function shortType(element) {
  return (element && element.$type ? element.$type : "").replace(/^bpmn:/, "");
}

function describe(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value !== "object") return String(value);
  if (value.$type) return value.id ? `${value.$type} ${value.id}` : value.$type;
  if (Array.isArray(value)) return `[${value.map(describe).join(", ")}]`;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

// bpmn-js-differ 3.2 hands a modified value's delta [before, after] to changed(model, key, newValue,
// oldValue) in that order, so a modified or deleted value arrives swapped; added and removed elements
// (null on the missing side) and added values (undefined before) arrive right.
function beforeAfter({ oldValue, newValue }) {
  if (oldValue === null || newValue === null || oldValue === undefined) return [oldValue, newValue];
  if (oldValue === 0) return [newValue, undefined]; // a deleted value: the delta [before, 0, 0]
  return [newValue, oldValue];
}

// References are shown by id; contained elements (extensions above all) by their content.
const REFERENCES = new Set(["incoming", "outgoing", "flowNodeRef", "sourceRef", "targetRef", "processRef",
  "attachedToRef", "default", "bpmnElement", "messageRef", "signalRef", "errorRef", "escalationRef",
  "calledElement", "categoryValueRef", "dataObjectRef", "dataStoreRef", "resource"]);

function summary(value, depth = 0) {
  if (value === null || value === undefined) return "";
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) return value.map((item) => summary(item, depth)).filter(Boolean).join("; ");
  if (depth > 6) return value.$type || "…";
  const parts = [];
  for (const key of Object.keys(value)) {
    if ((key.startsWith("$") && key !== "$body" && key !== "$children") || key === "di") continue;
    const inner = value[key];
    if (REFERENCES.has(key)) {
      parts.push(`${key}=${[].concat(inner).map((ref) => (ref && ref.id) || ref).join(",")}`);
    } else if (key === "$body" || key === "$children" || key === "values") {
      parts.push(summary(inner, depth + 1));
    } else if (inner && typeof inner === "object") {
      parts.push(`${key}: ${summary(inner, depth + 1)}`);
    } else {
      parts.push(`${key}=${inner}`);
    }
  }
  const type = value.$type ? value.$type.replace(/^bpmn:/, "") : "";
  return `${type}${type && parts.length ? " " : ""}${parts.filter(Boolean).join(" ")}`;
}

// A contained value as lines, one per innermost element, so that only the lines that differ are shown.
function leaves(value, depth = 0) {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((item) => leaves(item, depth));
  if (typeof value !== "object" || depth > 6) return [summary(value)];
  const nested = value.$children || value.values;
  if (Array.isArray(nested) && nested.length) return nested.flatMap((item) => leaves(item, depth + 1));
  return [summary(value)];
}

// What changed inside an element when the differ named no attribute (it does not look into
// extension elements, which bpmn-moddle reads as generic elements). ``skip`` names contained parts
// that are compared as elements of their own.
function innerChanges(before, after, skip = new Set()) {
  if (!before || !after) return [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changes = [];
  for (const key of keys) {
    if (key.startsWith("$") || key === "di" || REFERENCES.has(key) || skip.has(key)) continue;
    const [was, is] = [leaves(before[key]), leaves(after[key])];
    const gone = was.filter((line) => !is.includes(line));
    const come = is.filter((line) => !was.includes(line));
    if (gone.length || come.length) changes.push([key, gone.join("; "), come.join("; ")]);
  }
  return changes;
}

// Every element of a definitions tree by id (the semantic ones: shapes are found through them).
function byId(definitions) {
  const elements = new Map();
  const seen = new Set();
  const visit = (value) => {
    if (!value || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if (value.id && value.$type && !elements.has(value.id)) elements.set(value.id, value);
    for (const key of Object.keys(value)) {
      if (!key.startsWith("$") && key !== "di" && !REFERENCES.has(key)) visit(value[key]);
    }
  };
  visit(definitions.rootElements);
  return elements;
}

// One entry per element and kind: {id, kind, element (moddle), attrs: [[name, before, after], ...]}.
function changeList(changes, oldElements, newElements) {
  const entries = [];
  for (const [id, element] of Object.entries(changes._added)) entries.push({ id, kind: "added", element, attrs: [] });
  for (const [id, element] of Object.entries(changes._removed)) entries.push({ id, kind: "removed", element, attrs: [] });
  for (const [id, change] of Object.entries(changes._changed)) {
    let attrs = Object.entries(change.attrs).map(([name, values]) => [name, ...beforeAfter(values)]);
    if (!attrs.length) attrs = innerChanges(oldElements.get(id), newElements.get(id));
    entries.push({ id, kind: "changed", element: newElements.get(id) || change.model, attrs });
  }
  for (const [id, element] of Object.entries(changes._layoutChanged)) entries.push({ id, kind: "layout", element, attrs: [] });
  return entries.concat(overlooked(entries, oldElements, newElements));
}

// bpmn-js-differ does not look inside event definitions, so a timer given a new deadline (the change
// the City asks for most) went unseen. Every flow element on both sides gets a second look at what it
// contains; the elements a sub-process holds are compared on their own.
const CONTAINED_ELEMENTS = new Set(["flowElements", "artifacts", "laneSets"]);

function overlooked(entries, oldElements, newElements) {
  const listed = new Set(entries.filter((entry) => entry.kind !== "layout").map((entry) => entry.id));
  const found = [];
  for (const [id, after] of newElements) {
    const before = oldElements.get(id);
    if (listed.has(id) || !before || typeof after.$instanceOf !== "function") continue;
    if (!after.$instanceOf("bpmn:FlowElement")) continue;
    const attrs = innerChanges(before, after, CONTAINED_ELEMENTS);
    if (attrs.length) found.push({ id, kind: "changed", element: after, attrs });
  }
  return found;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function show(viewers, id) {
  for (const viewer of Object.values(viewers)) {
    const element = viewer.get("elementRegistry").get(id);
    if (!element) continue;
    const canvas = viewer.get("canvas");
    canvas.zoom("fit-viewport");
    canvas.scrollToElement(element);
  }
  root.querySelector(".compare-panes").scrollIntoView({ block: "start" });
}

function render(entries, viewers) {
  const body = root.querySelector("#compare-changes tbody");
  body.replaceChildren();
  for (const entry of entries) {
    const drawn = KINDS[entry.kind].sides.filter((side) => viewers[side].get("elementRegistry").get(entry.id));
    for (const side of drawn) viewers[side].get("canvas").addMarker(entry.id, KINDS[entry.kind].marker);
    const row = document.createElement("tr");
    row.dataset.elementId = entry.id;
    row.dataset.kind = entry.kind;
    const idCell = document.createElement("td");
    const code = document.createElement("code");
    code.textContent = entry.id;
    idCell.appendChild(code);
    if (drawn.length) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "outline small";
      button.textContent = messages.msgShow;
      button.setAttribute("aria-label", `${messages.msgShow}: ${entry.id}`);
      button.addEventListener("click", () => show(viewers, entry.id));
      idCell.append(" ", button);
    } else {
      const note = document.createElement("small");
      note.className = "muted";
      note.textContent = ` (${messages.msgNotDrawn})`;
      idCell.appendChild(note);
    }
    row.appendChild(idCell);
    const newer = viewers.new.get("elementRegistry").get(entry.id);
    const name = (newer && newer.businessObject.name) || (entry.element && entry.element.name) || "";
    cell(row, shortType(entry.element));
    cell(row, name || "—");
    const kindCell = cell(row, "");
    const tag = document.createElement("span");
    tag.className = `tag ${KINDS[entry.kind].marker}`;
    tag.textContent = KINDS[entry.kind].label;
    kindCell.appendChild(tag);
    const attrsCell = cell(row, "");
    if (entry.attrs.length) {
      const list = document.createElement("ul");
      for (const [attr, before, after] of entry.attrs) {
        const item = document.createElement("li");
        const label = document.createElement("code");
        label.textContent = attr;
        item.append(label, `: ${describe(before)} → ${describe(after)}`);
        list.appendChild(item);
      }
      attrsCell.appendChild(list);
    } else {
      attrsCell.textContent = "—";
    }
    body.appendChild(row);
  }
  for (const counter of root.querySelectorAll(".compare-legend .count")) {
    counter.textContent = String(entries.filter((entry) => entry.kind === counter.dataset.kind).length);
  }
}

async function main() {
  const status = root.querySelector("#compare-status");
  let viewers;
  try {
    const [oldViewer, newViewer] = await Promise.all([
      load(root.querySelector("#compare-old"), messages.oldUrl),
      load(root.querySelector("#compare-new"), messages.newUrl),
    ]);
    viewers = { old: oldViewer, new: newViewer };
  } catch {
    status.textContent = messages.msgLoadFailed;
    status.dataset.kind = "error";
    root.dataset.ready = "error";
    return;
  }
  const [oldDefinitions, newDefinitions] = [viewers.old.getDefinitions(), viewers.new.getDefinitions()];
  const entries = changeList(diff(oldDefinitions, newDefinitions), byId(oldDefinitions), byId(newDefinitions));
  render(entries, viewers);
  status.textContent = entries.length ? `${messages.msgSummary} ${entries.length}` : messages.msgNoChanges;
  window.pis2Compare = { viewers, entries };
  root.dataset.ready = "true";
}

main();
