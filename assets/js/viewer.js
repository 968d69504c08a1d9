// Read-only diagram with marked elements. Each [data-bpmn-viewer] element names the XML to show
// (data-xml-url) and the markers to add (data-markers: JSON {"elementId": ["css-class", ...]}).
// Data attributes rather than an inline script, because the CSP forbids inline scripts.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

async function show(container) {
  const viewer = new NavigatedViewer({ container });
  const response = await fetch(container.dataset.xmlUrl, { credentials: "same-origin" });
  if (!response.ok) {
    container.textContent = container.dataset.msgLoadFailed || "";
    return;
  }
  await viewer.importXML(await response.text());
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const markers = JSON.parse(container.dataset.markers || "{}");
  for (const [elementId, classes] of Object.entries(markers)) {
    if (!registry.get(elementId)) continue;
    for (const cls of [].concat(classes)) canvas.addMarker(elementId, cls);
  }
  canvas.zoom("fit-viewport");
  container.dataset.ready = "true";
}

for (const container of document.querySelectorAll("[data-bpmn-viewer]")) {
  show(container);
}
